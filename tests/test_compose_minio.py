"""deploy/compose/minio-setup.sh writes the lifecycle rules the API writes.

`mc` (the minio/mc image's client) is not installed here, so the script runs under `sh` with a
recording `mc` first on PATH: what it would send is kept, not imitated. The rules it would
import are then compared with those the API's own start-up leaves on a real MinIO
(`api/app.py` through `S3ObjectStore.expire_prefix`), rule by rule: the same ids, prefixes,
days and status, so whichever writer ran last, a bucket has one configuration.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from api.routes.uploads import UPLOAD_RETENTION
from core.storage.s3 import S3ObjectStore
from schema.names import UPLOADS_PREFIX
from tests.utils.servers import S3Target

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "compose" / "minio-setup.sh"
RECORDER = """#!/bin/sh
# Records one mc invocation: its arguments, and for `ilm import` the document on stdin.
printf '%s\\n' "$*" >> "$CAPTURE/calls"
if [ "$1 $2" = "ilm import" ]; then
    cat > "$CAPTURE/$(printf '%s' "$3" | tr '/' '_').json"
fi
"""


def _run_script(tmp_path: Path, videos: str, payloads: str, days: int) -> Path:
    capture = tmp_path / "capture"
    capture.mkdir()
    recorder = tmp_path / "bin" / "mc"
    recorder.parent.mkdir()
    recorder.write_text(RECORDER)
    recorder.chmod(recorder.stat().st_mode | stat.S_IXUSR)
    env = {
        **os.environ,
        "PATH": f"{recorder.parent}{os.pathsep}{os.environ['PATH']}",
        "CAPTURE": str(capture),
        "ASCENSION_S3_ACCESS_KEY": "key",
        "ASCENSION_S3_SECRET_KEY": "secret",
        "ASCENSION_BUCKET": videos,
        "ASCENSION_PAYLOAD_BUCKET": payloads,
        "ASCENSION_PAYLOAD_RETENTION_DAYS": str(days),
    }
    done = subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return capture


def _rules(document: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    return [
        (r["ID"], r["Status"], r["Filter"]["Prefix"], r["Expiration"]["Days"])
        for r in document["Rules"]
    ]


async def _api_rules(store: S3ObjectStore, bucket: str) -> list[tuple[str, str, str, int]]:
    config = await store._client.get_bucket_lifecycle(bucket)  # read back only
    assert config is not None
    return [
        (
            str(rule.rule_id),
            str(rule.status),
            rule.rule_filter.prefix if rule.rule_filter and rule.rule_filter.prefix else "",
            int(rule.expiration.days) if rule.expiration and rule.expiration.days else -1,
        )
        for rule in config.rules
    ]


async def test_the_script_and_the_api_write_the_same_rules(s3: S3Target, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    videos, payloads, days = f"compose-videos-{suffix}", f"compose-payloads-{suffix}", 12
    capture = _run_script(tmp_path, videos, payloads, days)
    calls = (capture / "calls").read_text().splitlines()
    assert calls[0] == "alias set store http://minio:9000 key secret"
    assert calls[1] == f"mb --ignore-existing store/{videos} store/{payloads}"
    script_videos = json.loads((capture / f"store_{videos}.json").read_text())
    script_payloads = json.loads((capture / f"store_{payloads}.json").read_text())

    store = S3ObjectStore(s3.endpoint, s3.access_key, s3.secret_key, secure=s3.secure)
    try:
        for bucket in (videos, payloads):
            await store.ensure_bucket(bucket)
        # What api/app.py's start-up does to the two buckets.
        await store.expire_prefix(videos, UPLOADS_PREFIX, UPLOAD_RETENTION.days)
        await store.expire_prefix(payloads, "", days)
        assert _rules(script_videos) == await _api_rules(store, videos)
        assert _rules(script_payloads) == await _api_rules(store, payloads)
    finally:
        await store.close()
    assert _rules(script_payloads) == [("expire-all", "Enabled", "", days)]
