"""The result document of one analysis, assembled from what its steps stored.

The one place the app's document is put together: the skeleton and ghost arrive as NumPy archives
(`SkeletonTimeline.to_bytes`), the advice and the ghost's plan as `schema.documents`, and the
workflow's summary as `PersistResultsInput`; out comes the gzipped JSON the API serves byte for
byte with ``Content-Encoding: gzip``. `activities.records` (`persist_results`) only loads the
inputs and stores these bytes.
"""

from __future__ import annotations

import dataclasses
import gzip
from dataclasses import dataclass

from engines.document.build import build_result_document, encode_json
from engines.document.thinning import thin_off_climb
from engines.pose.timeline import SkeletonTimeline
from schema.analysis import MetricsSummary
from schema.documents import decode_advice, decode_ghost_plan
from schema.holds import HoldMap
from schema.steps import PersistResultsInput

#: Level 6: within a few percent of level 9's size at a tenth of its time.
GZIP_LEVEL = 6


@dataclass
class StoredSteps:
    """The bytes the analysis's steps stored, as read from object storage."""

    skeleton: bytes
    advice: bytes
    #: None without a ghost (tier, option, or no route within reach).
    ghost: bytes | None = None
    #: None without a ghost, and for ghosts stored before plans were.
    ghost_plan: bytes | None = None


def assemble_result_document(params: PersistResultsInput, stored: StoredSteps) -> bytes:
    """The gzipped result document (`build_result_document`, then `encode_json`).

    Raises:
        ResultDocumentError: an input cannot be encoded (see `build_result_document`).
    """
    result = params.result
    skeleton = SkeletonTimeline.from_bytes(stored.skeleton)
    advice = decode_advice(stored.advice)
    ghost = SkeletonTimeline.from_bytes(stored.ghost) if stored.ghost is not None else None
    plan = decode_ghost_plan(stored.ghost_plan) if stored.ghost_plan is not None else None
    hold_map = params.hold_map or HoldMap(skeleton.frame_width, skeleton.frame_height)
    if advice.climb is not None:
        skeleton = thin_off_climb(skeleton, advice.climb.start_s, advice.climb.end_s)
    document = build_result_document(
        analysis_id=params.analysis_id,
        hold_map=hold_map,
        skeleton=skeleton,
        metrics=params.metrics if params.metrics else MetricsSummary(),
        moves=advice.moves,
        move_figures=advice.move_figures,
        advice=advice.advice,
        ghost=ghost,
        ghost_moves=plan.moves if plan is not None else None,
        ghost_verdict=plan.verdict if plan is not None else None,
        ghost_skipped_reason=result.ghost_skipped_reason,
        extra={
            # The climb inside the video (None in results recorded before segmentation).
            "climb": dataclasses.asdict(advice.climb) if advice.climb is not None else None,
            "processing_time_ms": params.processing_time_ms,
            "used_detected_holds_after_deadline": result.used_detected_holds_after_deadline,
        },
    )
    return gzip.compress(encode_json(document), compresslevel=GZIP_LEVEL)
