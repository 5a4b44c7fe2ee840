"""Support staff's read-only view of any analysis, with the way into Temporal's Web UI."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from fastapi import APIRouter

from api.deps import Resources, Session, SupportUser
from api.errors import not_found, responses
from schema import names
from schema.models import Analysis, AnalysisPublic

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
    workflow_id = names.analysis_workflow_id(str(analysis.id))
    namespace = quote(resources.settings.temporal_namespace, safe="")
    return SupportAnalysis(
        **AnalysisPublic.model_validate(analysis).model_dump(),
        user_id=analysis.user_id,
        workflow_id=workflow_id,
        web_ui_path=f"/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}",
    )
