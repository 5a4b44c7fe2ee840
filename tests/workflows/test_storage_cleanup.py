"""The daily storage cleanup (issue 17 item 5): `StorageCleanupWorkflow` with its production
activities on a SQLite database and the local-folder store.

Time skips on the time-skipping server: a fresh upload survives a run and is deleted once the
server's clock is eight days on; a row written before uploads were dated gets its date. The
Schedule itself runs on the dev server (the Java test server has no scheduler): created once,
brought up to date without losing a pause, and a triggered run does the cleanup.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, ScheduleOverlapPolicy
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.cleanup import StorageCleanup
from ascension.servers.temporal import start_time_skipping_server
from core.cleanup import CLEANUP_HOUR_UTC, CLEANUP_MINUTE, ensure_cleanup_schedule
from core.db import make_engine, migrate, session_scope
from core.settings import Settings
from core.storage import LocalObjectStore
from schema import names
from schema.cleanup import StorageCleanupInput, StorageCleanupResult
from schema.models import Analysis, User, Video
from workflows.storage_cleanup import StorageCleanupWorkflow

pytestmark = pytest.mark.integration

BUCKET = "cleanup-videos"
PAYLOADS = "cleanup-payloads"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def store(tmp_path: Path) -> LocalObjectStore:
    store = LocalObjectStore(tmp_path / "store")
    for bucket in (BUCKET, PAYLOADS):
        await store.ensure_bucket(bucket)
    return store


async def _video(
    engine: AsyncEngine,
    store: LocalObjectStore,
    user: User,
    uploaded_at: datetime,
    *,
    saved: bool = False,
    dated: bool = True,
) -> Video:
    """A video row with its upload (or saved copy) and an analysis's pinned copy stored; an
    unsaved one expires 7 days after its upload, as the API writes it (unless not ``dated``,
    as rows written before that)."""
    video = Video(user_id=user.id, storage_url="", saved=saved, uploaded_at=uploaded_at)
    if not saved and dated:
        video.expires_at = uploaded_at + timedelta(days=7)
    user_id, video_id = str(user.id), str(video.id)
    video.storage_url = (
        names.saved_key(user_id, video_id) if saved else names.upload_key(user_id, video_id)
    )
    await store.put_bytes(BUCKET, video.storage_url, b"video")
    await store.put_bytes(BUCKET, names.pinned_video_key(user_id, video_id, "a1"), b"copy")
    async with session_scope(engine) as session:
        session.add(video)
        await session.commit()
        await session.refresh(video)
    return video


async def _user(engine: AsyncEngine) -> User:
    user = User(email=f"{uuid.uuid4().hex[:10]}@example.com", password_hash="-")
    async with session_scope(engine) as session:
        session.add(user)
        await session.commit()
        await session.refresh(user)
    return user


async def _expires_at(engine: AsyncEngine, video: Video) -> datetime | None:
    async with session_scope(engine) as session:
        row = await session.get(Video, video.id)
    assert row is not None
    return row.expires_at


async def _run(client: Client, task_queue: str, engine, store) -> StorageCleanupResult:
    cleanup = StorageCleanup(engine, store)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[StorageCleanupWorkflow],
        activities=[cleanup.expire_unsaved_uploads, cleanup.remove_orphaned_payloads],
    ):
        return await client.execute_workflow(
            StorageCleanupWorkflow.run,
            StorageCleanupInput(BUCKET, PAYLOADS, client.namespace, cpu_task_queue=task_queue),
            id=f"cleanup-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )


@pytest.fixture
async def own_clock(settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of this test's own. The session's shared one jumps to the next
    timer that any earlier test left running (a validation deadline days away) whenever it is
    idle, so "eight days later" there can be weeks later, past the cleanup's look-back."""
    env = await start_time_skipping_server(settings)
    try:
        yield env
    finally:
        await env.shutdown()


async def test_unsaved_uploads_expire_after_seven_days_and_orphaned_payloads_go(
    own_clock: WorkflowEnvironment,
    task_queue: str,
    engine: AsyncEngine,
    store: LocalObjectStore,
) -> None:
    time_skipping_env = own_clock
    client = time_skipping_env.client
    now = await time_skipping_env.get_current_time()
    user = await _user(engine)
    old = await _video(engine, store, user, now - timedelta(days=10))
    undated = await _video(engine, store, user, now - timedelta(days=40), dated=False)
    fresh = await _video(engine, store, user, now - timedelta(hours=1))
    kept = await _video(engine, store, user, now - timedelta(days=30), saved=True)
    analysis = Analysis(video_id=kept.id, user_id=user.id)
    async with session_scope(engine) as session:
        session.add(analysis)
        await session.commit()
    gone = str(uuid.uuid4())  # an analysis deleted while its payloads stayed
    ns = client.namespace
    live_key = f"analyses/{analysis.id}/d/sha256/a"
    orphan_keys = [
        f"analyses/{gone}/d/sha256/b",
        f"v0/ns/{ns}/wt/VideoAnalysisWorkflow/wi/analysis-{gone}/ri/r1/d/sha256/c",
    ]
    other_keys = [  # not an analysis's row to judge: left to the bucket's own expiry
        "analyses/bench-stand-in/d/sha256/d",
        f"v0/ns/{ns}/wt/RouteHoldsWorkflow/wi/route-holds-r1/ri/r1/d/sha256/e",
    ]
    for key in [live_key, *orphan_keys, *other_keys]:
        await store.put_bytes(PAYLOADS, key, b"payload")

    # Only the explicit sleep below moves this clock. Left to itself, the server skips ahead
    # while an activity runs on a busy machine (to its timeouts and retries), and a run could
    # then start well past "eight days later" (a full-suite CI failure).
    with time_skipping_env.auto_time_skipping_disabled():
        first = await _run(client, task_queue, engine, store)

    # The upload and the analysis's copy of each, for the expired and the undated old one.
    assert (first.uploads.expired_videos, first.uploads.deleted_objects) == (2, 4)
    assert await _expires_at(engine, old) == old.uploaded_at + timedelta(days=7)
    assert not await store.exists(BUCKET, old.storage_url)
    assert not await store.exists(BUCKET, names.pinned_video_key(str(user.id), str(old.id), "a1"))
    assert await _expires_at(engine, undated) == undated.uploaded_at + timedelta(days=7)
    assert not await store.exists(BUCKET, undated.storage_url)
    assert await store.exists(BUCKET, fresh.storage_url)
    assert await _expires_at(engine, kept) is None  # saved: never expires
    assert await store.exists(BUCKET, kept.storage_url)
    assert (first.payloads.orphaned_analyses, first.payloads.deleted_objects) == (1, 2)
    assert await store.list_keys(PAYLOADS, "") == sorted([live_key, *other_keys])

    await time_skipping_env.sleep(timedelta(days=8))
    with time_skipping_env.auto_time_skipping_disabled():
        second = await _run(client, task_queue, engine, store)

    assert second.uploads.expired_videos == 1  # the fresh one, now past its 7 days
    assert not await store.exists(BUCKET, fresh.storage_url)
    assert await store.exists(BUCKET, kept.storage_url)
    assert second.payloads.orphaned_analyses == 0

    with time_skipping_env.auto_time_skipping_disabled():
        third = await _run(client, task_queue, engine, store)  # nothing left: nothing twice
    assert (third.uploads.expired_videos, third.uploads.deleted_objects) == (0, 0)


async def test_the_daily_schedule_is_kept_up_to_date_and_its_run_cleans_up(
    temporal_dev_env: WorkflowEnvironment,
    task_queue: str,
    engine: AsyncEngine,
    store: LocalObjectStore,
) -> None:
    client = temporal_dev_env.client
    settings = Settings(
        bucket=BUCKET,
        payload_bucket=PAYLOADS,
        cpu_task_queue=task_queue,
        temporal_namespace=client.namespace,
    )
    handle = client.get_schedule_handle(names.STORAGE_CLEANUP_SCHEDULE_ID)
    # A namespace's first worker start creates the schedule. The shared dev server may hold
    # one from an earlier test's production worker: in the full suite, after the Temporal
    # restart test, an operator's pause on that inherited schedule was never applied.
    with contextlib.suppress(RPCError):
        await handle.delete()
    await ensure_cleanup_schedule(client, settings)
    try:
        await handle.pause(note="paused by an operator")
        # The pause is applied by the schedule's own workflow, a moment later on a busy server;
        # the scenario is a worker starting after the operator's pause took effect.
        async with asyncio.timeout(10):
            while not (await handle.describe()).schedule.state.paused:
                await asyncio.sleep(0.05)
        await ensure_cleanup_schedule(client, settings)  # a second worker start: an update
        described = await handle.describe()
        schedule = described.schedule
        [calendar] = schedule.spec.calendars
        assert [r.start for r in calendar.hour] == [CLEANUP_HOUR_UTC]
        assert [r.start for r in calendar.minute] == [CLEANUP_MINUTE]
        assert schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        assert schedule.state.paused and schedule.state.note == "paused by an operator"
        assert schedule.action.workflow == names.STORAGE_CLEANUP_WORKFLOW  # type: ignore[union-attr]
        assert schedule.action.task_queue == task_queue  # type: ignore[union-attr]

        user = await _user(engine)
        old = await _video(engine, store, user, datetime.now().astimezone() - timedelta(days=9))
        cleanup = StorageCleanup(engine, store)
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[StorageCleanupWorkflow],
            activities=[cleanup.expire_unsaved_uploads, cleanup.remove_orphaned_payloads],
        ):
            await handle.trigger()  # what the server does at 03:30, on demand
            for _ in range(200):
                actions = (await handle.describe()).info.recent_actions
                if actions:
                    break
                await asyncio.sleep(0.05)
            run = actions[0].action
            result = await client.get_workflow_handle(run.workflow_id).result()  # type: ignore[union-attr]
        assert result["uploads"]["expired_videos"] == 1
        assert not await store.exists(BUCKET, old.storage_url)
    finally:
        await handle.delete()
