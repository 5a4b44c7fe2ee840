"""``POST /analysis/video/{id}/cancel``: stop a running analysis through Temporal's own
cancellation, so the run records and publishes its end and shows as Canceled in the Web UI."""

from __future__ import annotations

from fastapi import APIRouter, status
from temporalio.service import RPCError

from api.deps import Resources
from api.errors import ApiError, responses
from api.routes.analyses.access import OwnedAnalysis, run_of
from api.schemas.analyses import AnalysisState
from core.analyses import RUNNING
from schema.analysis import CancelInput

router = APIRouter(prefix="/analysis/video", tags=["analyses"])

CLIMBER_CANCEL_REASON = CancelInput().reason


@router.post(
    "/{analysis_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AnalysisState,
    responses=responses(401, 404, 409),
)
async def cancel_analysis(analysis: OwnedAnalysis, resources: Resources) -> AnalysisState:
    """Stop a running analysis; it ends as `cancelled` (the monthly start stays counted)."""
    if analysis.status not in RUNNING:
        raise ApiError(
            409, "not_running", f"the analysis has already ended ({analysis.status.value})"
        )
    handle = await run_of(resources, analysis)
    try:
        # Temporal's own cancellation: the run records and publishes the end, then shows as
        # Canceled in the Web UI (the `cancel` signal, kept for older clients, ends it Completed).
        await handle.cancel(reason=CLIMBER_CANCEL_REASON)
    except RPCError:
        raise ApiError(409, "not_running", "the analysis has already ended") from None
    return AnalysisState(
        analysis_id=analysis.id,
        status=analysis.status,
        stage=analysis.stage,
        created_at=analysis.created_at,
        updated_at=analysis.updated_at,
    )
