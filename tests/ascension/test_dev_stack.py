"""The phone's whole flow against `ascension dev` alone (issue 18 item 1).

`ascension dev` runs as its own process on free ports, with nothing but its defaults: the
Temporal dev server on a SQLite file, the SQLite app database, the folder store, both workers
and the API. A plain HTTP client (httpx, and a `websockets` client for the socket) then does
what the app does: register, ask for upload URLs and PUT the wall photo and the video to them,
start the analysis, follow the WebSocket, validate the detected holds, and read the result.
Every engine runs for real, on the demo's stand-in media.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect

from ascension.media import write_clip
from ascension.servers.process import free_port
from engines.holds.synth import generate_wall
from tests.api.conftest import Climber
from tests.api.test_analyses import V1, _put, _uploaded_video

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: The stack's first start builds the pose pool and loads the hold detector on 2 shared cores.
READY_WITHIN_S = 240.0
#: From the start request to the result, a 12 s clip (about 8 s alone on 2 cores).
ANALYSIS_WITHIN_S = 300.0


async def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        deadline = asyncio.get_running_loop().time() + READY_WITHIN_S
        while asyncio.get_running_loop().time() < deadline:
            if process.poll() is not None:
                pytest.fail(f"ascension dev exited ({process.returncode}):\n{log.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.5)
    pytest.fail(f"ascension dev was not ready within {READY_WITHIN_S} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
async def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """`ascension dev` on free ports and a data folder of its own; yields the API's base URL."""
    folder = tmp_path_factory.mktemp("dev-stack")
    api_port = free_port()
    # Only the component cache is kept from this environment (the test run's servers are not
    # the embedded default's): everything else is `ascension dev`'s own default.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASCENSION_")}
    if "ASCENSION_CACHE_DIR" in os.environ:
        env["ASCENSION_CACHE_DIR"] = os.environ["ASCENSION_CACHE_DIR"]
    env.update(
        ASCENSION_DATA_DIR=str(folder / "data"),
        ASCENSION_API_PORT=str(api_port),
        ASCENSION_TEMPORAL_DEV_PORT=str(free_port()),
        ASCENSION_TEMPORAL_UI_PORT=str(free_port()),
    )
    log = folder / "dev.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "ascension.cli", "dev"],
            cwd=folder,  # no .env file of the repository's is read
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base_url = f"http://127.0.0.1:{api_port}"
        await _wait_ready(base_url, process, log)
        yield base_url
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C does: the stack stops in order
        try:
            await asyncio.to_thread(process.wait, 60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group this fixture started
            process.wait()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """The demo's stand-ins: a synthetic wall photo, and a clip of a real photograph of a
    person filmed by a moving camera (Debian's opencv-doc)."""
    ok, photo = cv2.imencode(".jpg", generate_wall(seed=7).image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    folder = tmp_path_factory.mktemp("dev-media")
    clip = write_clip(
        folder / "climb.mp4", image="basketball1.png", seconds=12.0, size=(720, 1280), motion="pan"
    )
    return photo.tobytes(), clip.read_bytes()


async def _next_event(socket: ClientConnection, analysis_id: str, *types: str) -> dict[str, Any]:
    """The next frame of one of ``types`` for this analysis; a failure frame ends the test."""
    while True:
        frame = json.loads(await socket.recv())
        if frame["analysis_id"] != analysis_id:
            continue
        if frame["type"] in {"stage_failed", "analysis_failed"}:
            pytest.fail(f"the analysis failed: {frame}")
        if frame["type"] in types:
            return frame


async def test_the_mobile_flow_runs_against_ascension_dev_alone(
    dev_stack: str, media: tuple[bytes, bytes]
) -> None:
    photo, video = media
    async with httpx.AsyncClient(base_url=dev_stack, timeout=30) as http:
        email, password = "phone@example.com", "correct horse battery"
        registered = await http.post(
            f"{V1}/auth/register", json={"email": email, "password": password}
        )
        assert registered.status_code == 201, registered.text
        body = registered.json()
        me = Climber(
            uuid.UUID(body["user"]["id"]),
            email,
            password,
            body["access_token"],
            body["refresh_token"],
        )
        auth = me.headers

        # The wall photo and the video go to the URLs the API signed, as the phone sends them.
        granted = await http.post(
            f"{V1}/routes/request-photo-upload",
            json={"content_type": "image/jpeg", "size_bytes": len(photo), "name": "home wall"},
            headers=auth,
        )
        assert granted.status_code == 201, granted.text
        wall = granted.json()
        assert (await _put(wall, photo)).status_code == 200
        video_id = await _uploaded_video(http, me, video)

        ws_url = dev_stack.replace("http", "ws", 1) + f"{V1}/ws?token={me.access_token}"
        async with connect(ws_url, max_size=None) as socket:
            started = await http.post(
                f"{V1}/analysis/video/start",
                json={
                    "video_id": video_id,
                    "route_id": wall["route_id"],
                    "morphology": {"height_cm": 178, "arm_span_cm": 182},
                },
                headers=auth,
            )
            assert started.status_code == 202, started.text
            analysis_id = started.json()["analysis_id"]

            async with asyncio.timeout(ANALYSIS_WITHIN_S):
                detected = await _next_event(socket, analysis_id, "holds_detected")
                hold_map = detected["data"]["hold_map"]
                assert hold_map["holds"], "the wall photo's holds were detected"
                # The climber accepts the detected holds, as the app's validate button does.
                # The event is published as the workflow begins its wait; the analysis' row
                # says so a moment later, and until then the API answers 409 (try again).
                while True:
                    validated = await http.post(
                        f"{V1}/analysis/video/{analysis_id}/holds",
                        json={"hold_map": hold_map},
                        headers=auth,
                    )
                    if validated.status_code != 409:
                        break
                    await asyncio.sleep(0.2)
                assert validated.status_code == 200, validated.text
                await _next_event(socket, analysis_id, "analysis_completed")

        result = await http.get(f"{V1}/analysis/video/{analysis_id}", headers=auth)
        assert result.status_code == 200, result.text
        document = result.json()
        assert document["analysis_id"] == analysis_id
        assert len(document["holds"]["items"]) == len(hold_map["holds"])
        # The skeleton the phone draws: one per analysed frame of the 12 s clip.
        assert document["video"]["duration_s"] == pytest.approx(12.0, abs=0.5)
        assert document["skeleton"]["frame_count"] == document["video"]["frame_count"] > 100
        assert document["video"]["pose_coverage"] > 0.5

        # The list's thumbnail: a frame of the climb, served from the folder store by a signed
        # URL that any image widget can load without credentials.
        listed = await http.get(f"{V1}/analysis/video", headers=auth)
        (item,) = listed.json()["items"]
        assert item["thumbnail_url"].startswith(dev_stack + "/api/v1/objects/")
        async with httpx.AsyncClient() as image_widget:
            picture = await image_widget.get(item["thumbnail_url"])
        assert picture.status_code == 200
        assert picture.headers["content-type"] == "image/jpeg"
        image = cv2.imdecode(np.frombuffer(picture.content, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and max(image.shape[:2]) == 640
