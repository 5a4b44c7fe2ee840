"""Thumbnail URLs in the analysis and video responses (issue 18 item 3), on real MinIO.

The production CPU worker runs the workflow and `FakePipeline` plays the GPU side, so the JPEG
the skeleton step would write is put in place here (the activities' own test makes it from a
real video); what is checked is that the API signs a URL a plain client can read, only once the
picture exists, and that deleting the video deletes it.
"""

from __future__ import annotations

import cv2
import httpx
import numpy as np
import pytest

from core.settings import Settings
from core.storage import make_object_store
from schema import names
from tests.api.conftest import ClimberFactory
from tests.api.test_analyses import V1, _awaiting_holds, _wait_for
from tests.utils.pipeline import FakePipeline, detected_map

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _small_detected_map(pipeline: FakePipeline) -> None:
    pipeline.hold_map = detected_map()


def _jpeg() -> bytes:
    image = np.zeros((64, 36, 3), np.uint8)
    image[:, :18] = (0, 0, 255)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return encoded.tobytes()


async def _fetch(url: str) -> httpx.Response:
    """What the app's image widget does: a plain GET, no credentials of ours."""
    async with httpx.AsyncClient() as http:
        return await http.get(url)


async def test_thumbnail_urls_appear_once_the_picture_exists_and_go_with_the_video(
    api: httpx.AsyncClient,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    api_settings: Settings,
) -> None:
    me = await climber()
    analysis_id, video_id = await _awaiting_holds(api, me)
    listed = (await api.get(f"{V1}/analysis/video", headers=me.headers)).json()["items"]
    assert [item["thumbnail_url"] for item in listed if item["id"] == analysis_id] == [None]
    state = (await api.get(f"{V1}/analysis/video/{analysis_id}", headers=me.headers)).json()
    assert state["thumbnail_url"] is None
    video = (await api.get(f"{V1}/videos/{video_id}", headers=me.headers)).json()
    assert video["thumbnail_url"] is None

    store = make_object_store(api_settings)
    jpeg = _jpeg()
    key = names.thumbnail_key(video_id)
    try:
        await store.put_bytes(api_settings.bucket, key, jpeg, content_type="image/jpeg")

        listed = (await api.get(f"{V1}/analysis/video", headers=me.headers)).json()["items"]
        (item,) = [item for item in listed if item["id"] == analysis_id]
        fetched = await _fetch(item["thumbnail_url"])
        assert fetched.status_code == 200
        assert fetched.content == jpeg
        assert fetched.headers["content-type"] == "image/jpeg"
        state = (await api.get(f"{V1}/analysis/video/{analysis_id}", headers=me.headers)).json()
        assert (await _fetch(state["thumbnail_url"])).content == jpeg
        video = (await api.get(f"{V1}/videos/{video_id}", headers=me.headers)).json()
        assert (await _fetch(video["thumbnail_url"])).content == jpeg
        # The URL opens this picture only: another video's thumbnail is refused.
        other = video["thumbnail_url"].replace(video_id, analysis_id)
        assert (await _fetch(other)).status_code == 403

        holds_url = f"{V1}/analysis/video/{analysis_id}/holds"
        detected = (await api.get(holds_url, headers=me.headers)).json()["hold_map"]
        accepted = await api.post(holds_url, json={"hold_map": detected}, headers=me.headers)
        assert accepted.status_code == 200, accepted.text
        await _wait_for(api, me, analysis_id, lambda b: "version" in b)
        # The result document is stored and served as it is; its thumbnail rides in a header.
        done = await api.get(f"{V1}/analysis/video/{analysis_id}", headers=me.headers)
        assert "version" in done.json()
        assert (await _fetch(done.headers["x-thumbnail-url"])).content == jpeg

        deleted = await api.delete(f"{V1}/videos/{video_id}", headers=me.headers)
        assert deleted.status_code == 204
        assert not await store.exists(api_settings.bucket, key)
        assert (await _fetch(video["thumbnail_url"])).status_code == 404
    finally:
        await store.delete(api_settings.bucket, key)
        await store.close()
