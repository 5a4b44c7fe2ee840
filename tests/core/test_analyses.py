"""`core.analyses`, the one owner of an analysis's lifecycle: the input it builds from the rows,
the start it asks Temporal for, and the names it reaches the workflow by."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from temporalio import workflow
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from core.analyses import FINISHED, RUNNING, analysis_input, start_or_attach
from core.settings import Settings
from schema import names
from schema.analysis import AnalysisResult, LegacyJobInput, Morphology, Stage, Status, Tier
from schema.holds import Hold, HoldMap
from schema.models import Analysis, Route, User
from workflows.video_analysis import VideoAnalysisWorkflow

pytestmark = pytest.mark.unit


def _rows(*, hold_map: HoldMap | None = None) -> tuple[Analysis, User, Route]:
    user = User(email="a@b.c", password_hash="-", subscription_tier=Tier.INFINITY)
    route = Route(
        user_id=user.id,
        photo_key=names.route_photo_key(str(user.id), "wall"),
        hold_map=dataclasses.asdict(hold_map) if hold_map else None,
    )
    analysis = Analysis(video_id=user.id, user_id=user.id, route_id=route.id, ghost_requested=True)
    return analysis, user, route


def test_the_status_sets_split_every_status_in_two() -> None:
    assert RUNNING.isdisjoint(FINISHED)
    assert set(Status) == RUNNING | FINISHED
    # Events carry the status as a plain string.
    assert "cancelled" in FINISHED and "pending" in RUNNING


def test_the_input_comes_from_the_rows_and_the_settings() -> None:
    hold_map = HoldMap(800, 600, [Hold("h1", 0.5, 0.5, "jug")])
    analysis, user, route = _rows(hold_map=hold_map)
    settings = Settings(bucket="videos", cpu_task_queue="q-cpu", gpu_task_queue="q-gpu")
    params = analysis_input(
        analysis, user, route, settings, video_key="v.mp4", morphology=Morphology(height_cm=170)
    )
    assert (params.analysis_id, params.user_id, params.route_id) == (
        str(analysis.id),
        str(user.id),
        str(route.id),
    )
    assert (params.video_id, params.video_key, params.bucket) == (str(user.id), "v.mp4", "videos")
    assert (params.cpu_task_queue, params.gpu_task_queue) == ("q-cpu", "q-gpu")
    assert params.tier is Tier.INFINITY and params.options.ghost
    assert params.route_photo_key == route.photo_key and params.route_hold_map == hold_map
    assert params.morphology.height_cm == 170 and params.keep_video


class _Client:
    """Records the one `start_workflow` call."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    async def start_workflow(self, *args: Any, **kwargs: Any) -> str:
        self.calls.append((args, kwargs))
        return "handle"


async def test_a_start_names_the_run_its_queue_priority_policy_and_attributes() -> None:
    analysis, user, route = _rows()
    params = analysis_input(analysis, user, route, Settings(cpu_task_queue="q"), video_key="v")
    client = _Client()
    legacy = LegacyJobInput("job-1", [Stage.SKELETON])
    await start_or_attach(client, params, legacy_job=legacy)  # type: ignore[arg-type]
    [(args, kwargs)] = client.calls
    assert args == (names.ANALYSIS_WORKFLOW, params)
    assert kwargs["id"] == names.analysis_workflow_id(str(analysis.id))
    assert kwargs["task_queue"] == "q" and kwargs["result_type"] is AnalysisResult
    assert kwargs["id_conflict_policy"] is WorkflowIDConflictPolicy.USE_EXISTING
    assert kwargs["id_reuse_policy"] is WorkflowIDReusePolicy.REJECT_DUPLICATE
    assert kwargs["priority"].priority_key == Tier.INFINITY.priority_key
    attributes = {pair.key.name: pair.value for pair in kwargs["search_attributes"]}
    assert attributes == {
        names.ANALYSIS_ID_ATTRIBUTE: str(analysis.id),
        names.USER_ID_ATTRIBUTE: str(user.id),
    }
    assert kwargs["start_signal"] == names.ATTACH_LEGACY_JOB_SIGNAL
    assert kwargs["start_signal_args"] == [legacy]

    again = _Client()
    await start_or_attach(again, params, start_again_if_closed=True)  # type: ignore[arg-type]
    [(_, kwargs)] = again.calls
    assert kwargs["id_reuse_policy"] is WorkflowIDReusePolicy.ALLOW_DUPLICATE
    assert kwargs["start_signal"] is None


def test_the_workflow_declares_itself_under_the_names_clients_use() -> None:
    definition = workflow._Definition.must_from_class(VideoAnalysisWorkflow)
    assert definition.name == names.ANALYSIS_WORKFLOW
    assert names.STATUS_QUERY in definition.queries
    assert names.VALIDATE_HOLDS_UPDATE in definition.updates
    assert names.ATTACH_LEGACY_JOB_SIGNAL in definition.signals
