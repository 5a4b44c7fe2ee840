"""Video analyses: start, read (progress or the result document), list, holds, cancel.

Each analysis is a `VideoAnalysisWorkflow`; these routes only check, record and forward, and
reach the run through `core.analyses`. The database row is the climber's index of their analyses
(ownership, listing, quota); the workflow is the source of truth while it runs (progress, the
holds awaiting validation). One module a job: `start`, `read` (list, progress, the result
document), `holds`, `cancel`; `access` says who may read or act; the bodies are in
`api.schemas.analyses`.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.routes.analyses import cancel, holds, read, start

router = APIRouter()
for part in (start, read, holds, cancel):
    router.include_router(part.router)

__all__ = ["router"]
