"""AWS Signature V4 query-string presigning with signed headers (pure, no I/O).

miniopy-async presigns URLs that sign only ``host``, so a client could upload any type and any
size. Signing ``content-type`` and ``content-length`` as well makes the store itself refuse a
request whose headers differ from what the API approved (S3 and MinIO check every signed
header), without the bytes ever passing through the API.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret_key}".encode(), day)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def presign(
    method: str,
    *,
    endpoint: str,
    secure: bool,
    bucket: str,
    key: str,
    access_key: str,
    secret_key: str,
    region: str,
    expires: timedelta,
    headers: dict[str, str] | None = None,
    now: datetime | None = None,
) -> str:
    """A path-style presigned URL; every header in ``headers`` must be sent exactly as given."""
    now = now or datetime.now(UTC)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = now.strftime("%Y%m%d")
    scope = f"{day}/{region}/s3/aws4_request"
    signed = {"host": endpoint, **{k.lower(): v.strip() for k, v in (headers or {}).items()}}
    signed_names = ";".join(sorted(signed))
    path = "/" + quote(bucket, safe="") + "/" + quote(key, safe="/~")
    query = {
        "X-Amz-Algorithm": ALGORITHM,
        "X-Amz-Credential": f"{access_key}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(int(expires.total_seconds())),
        "X-Amz-SignedHeaders": signed_names,
    }
    canonical_query = "&".join(
        f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(query.items())
    )
    canonical_headers = "".join(f"{name}:{signed[name]}\n" for name in sorted(signed))
    canonical_request = "\n".join(
        [method, path, canonical_query, canonical_headers, signed_names, "UNSIGNED-PAYLOAD"]
    )
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    signature = hmac.new(
        _signing_key(secret_key, day, region, "s3"), string_to_sign.encode(), hashlib.sha256
    ).hexdigest()
    scheme = "https" if secure else "http"
    return f"{scheme}://{endpoint}{path}?{canonical_query}&X-Amz-Signature={signature}"
