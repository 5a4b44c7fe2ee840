"""Which analysis a request may read or act on, as dependencies of the analyses routes.

A climber reads and acts on their own analyses; support staff read anyone's (to help) but never
act on them. Anything else answers 404, so ids of other climbers' analyses are not confirmed.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from api.deps import CurrentUser, Session
from api.errors import not_found
from api.resources import ApiResources
from core.analyses import AnalysisHandle, analysis_handle
from schema.models import Analysis, Role


async def readable_analysis(
    analysis_id: uuid.UUID, principal: CurrentUser, session: Session
) -> Analysis:
    analysis = await session.get(Analysis, analysis_id)
    if analysis is None or (
        analysis.user_id != principal.user_id and principal.role is not Role.SUPPORT
    ):
        raise not_found("this analysis")
    return analysis


ReadableAnalysis = Annotated[Analysis, Depends(readable_analysis)]


async def owned_analysis(analysis: ReadableAnalysis, principal: CurrentUser) -> Analysis:
    if analysis.user_id != principal.user_id:  # support staff read analyses; only owners act
        raise not_found("this analysis")
    return analysis


OwnedAnalysis = Annotated[Analysis, Depends(owned_analysis)]


async def run_of(resources: ApiResources, analysis: Analysis) -> AnalysisHandle:
    """The analysis's workflow run (connecting to Temporal on first use)."""
    client = await resources.temporal.client()
    return analysis_handle(client, str(analysis.id))
