"""Support staff's view of any analysis, with the way into Temporal's Web UI, and the redrive
of a failed one (the dead-letter queue's replacement)."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import quote

from fastapi import APIRouter, status
from temporalio.service import RPCError

from api.deps import Resources, Session, SupportUser
from api.errors import ApiError, not_found, responses
from api.reconcile import reconciled
from core.analyses import RetryRefused, UnknownAnalysis, retry_analysis
from schema import names
from schema.models import Analysis, AnalysisPublic

log = logging.getLogger("ascension.api")

router = APIRouter(prefix="/support", tags=["support"])


class SupportAnalysis(AnalysisPublic):
    user_id: uuid.UUID
    workflow_id: str
    #: Where the run's history, inputs and results are read, replayed and reset.
    web_ui_path: str


@router.get(
    "/analyses/{analysis_id}", response_model=SupportAnalysis, responses=responses(401, 403, 404)
)
async def support_analysis(
    analysis_id: uuid.UUID, staff: SupportUser, resources: Resources, session: Session
) -> SupportAnalysis:
    analysis = await session.get(Analysis, analysis_id)
    if analysis is None:
        raise not_found("this analysis")
    analysis = await reconciled(resources, session, analysis)
    workflow_id = names.analysis_workflow_id(str(analysis.id))
    namespace = quote(resources.settings.temporal_namespace, safe="")
    return SupportAnalysis(
        **AnalysisPublic.model_validate(analysis).model_dump(),
        user_id=analysis.user_id,
        workflow_id=workflow_id,
        web_ui_path=f"/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}",
    )


class SupportRetry(SupportAnalysis):
    #: The new run under the same workflow id (the failed one stays readable in the Web UI).
    run_id: str


@router.post(
    "/analyses/{analysis_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SupportRetry,
    responses=responses(401, 403, 404, 409, 503),
)
async def retry_failed_analysis(
    analysis_id: uuid.UUID, staff: SupportUser, resources: Resources, session: Session
) -> SupportRetry:
    """Run a failed, terminated or timed-out analysis again with the same inputs."""
    client = await resources.temporal.client()
    try:
        handle = await retry_analysis(client, session, analysis_id, store=resources.store)
    except UnknownAnalysis:
        raise not_found("this analysis") from None
    except RetryRefused as refused:
        raise ApiError(409, refused.code, refused.message) from None
    except RPCError as error:
        log.warning("retry of analysis %s: Temporal refused: %s", analysis_id, error)
        raise ApiError(
            503, "unavailable", "the analysis service is unavailable right now; try again"
        ) from None
    log.info(
        "support %s retried analysis %s: run %s", staff.user_id, analysis_id, handle.result_run_id
    )
    session.expire_all()  # the row was updated with a statement, not through this object
    read = await support_analysis(analysis_id, staff, resources, session)
    return SupportRetry(**read.model_dump(), run_id=handle.result_run_id or "")
