"""Encrypted analyses for the codec tests: settings with a key ring, an API app built on them,
a completed run whose hold map is kept in the payload bucket, and every payload of a history.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

from fastapi import FastAPI
from google.protobuf.message import Message
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import MarkerRecordedEventAttributes
from temporalio.client import Client, WorkflowHandle

from api.app import create_app
from core.payload_crypto import new_key
from core.settings import Settings
from core.storage import make_object_store
from core.temporal_client import connect_temporal
from schema import names
from schema.analysis import StartAnalysisInput
from tests.utils.pipeline import FakePipeline, analysis_input, dense_hold_map, pipeline_workers
from workflows.video_analysis import VideoAnalysisWorkflow

#: A hold id of `dense_hold_map` and its hold type: plaintext that must never reach history.
HOLD_ID = "h137"
HOLD_TYPE = "crimp"


def encrypted_settings(base: Settings, *, ui_origin: str | None = None) -> Settings:
    """``base`` with a rotated ring: ``k2`` encrypts, ``k1`` (retired) still decrypts."""
    return base.model_copy(
        update={
            "payload_encryption_keys": {"k1": SecretStr(new_key()), "k2": SecretStr(new_key())},
            "payload_encryption_key_id": "k2",
            "temporal_ui_origin": ui_origin,
        }
    )


@contextlib.asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """An API app on ``settings`` with its lifespan running."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def completed_dense_analysis(
    settings: Settings, target: str, task_queue: str
) -> tuple[WorkflowHandle, StartAnalysisInput]:
    """A finished analysis on a 200-hold route map (too big for history: it goes to the
    payload bucket), run with the settings' converter by workers sharing it."""
    store = make_object_store(settings)
    try:
        client: Client = await connect_temporal(settings, store, target=target)
        params = analysis_input(task_queue, route_hold_map=dense_hold_map(200, outline_points=16))
        async with pipeline_workers(client, task_queue, FakePipeline()):
            handle = await client.start_workflow(
                VideoAnalysisWorkflow.run,
                params,
                id=names.analysis_workflow_id(params.analysis_id),
                task_queue=params.cpu_task_queue,
            )
            await handle.result()
    finally:
        await store.close()
    return handle, params


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every `Payload` inside ``message`` (events, inputs, results, memo, headers), search
    attributes aside: those stay plaintext, as the server indexes them (ids and a status), and
    so do the SDK's patch markers (a `workflow.patched` id, code not data)."""
    if isinstance(message, Payload):
        yield message
        return
    if isinstance(message, MarkerRecordedEventAttributes) and message.marker_name == "core_patch":
        return
    if (
        isinstance(message, MarkerRecordedEventAttributes)
        and message.marker_name == "core_local_activity"
    ):
        # The SDK core's own record of a local activity (sequence, attempt, activity type,
        # schedule time) is plaintext like a patch marker; its result is ours and is encoded.
        for key, details in message.details.items():
            if key != "data":
                yield from details.payloads
        if message.HasField("failure"):
            yield from payloads_in(message.failure)
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE or field.name == "search_attributes":
            continue
        if isinstance(value, Message):
            yield from payloads_in(value)
            continue
        # A map (memo fields, headers) or a repeated field of messages.
        items = value.values() if hasattr(value, "values") else value
        for item in items:
            if isinstance(item, Message):  # maps of strings hold no payloads
                yield from payloads_in(item)
