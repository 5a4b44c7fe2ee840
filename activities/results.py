"""Assembles the app's result document from what the GPU steps stored.

Runs on the CPU worker when the results are persisted: the skeleton and ghost arrive as NumPy
archives, advice as JSON, and leave as one compact, versioned JSON document (`engines.document`)
stored gzipped so the API can serve it byte for byte with ``Content-Encoding: gzip``.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

from core.storage import ObjectStore
from engines.document import build_result_document, encode_json
from engines.document.thinning import thin_off_climb
from engines.pose.timeline import SkeletonTimeline
from schema import names
from schema.analysis import MetricsSummary, PersistResultsInput
from schema.holds import HoldMap

#: Level 6: within a few percent of level 9's size at a tenth of its time.
GZIP_LEVEL = 6


async def write_result_document(store: ObjectStore, params: PersistResultsInput) -> int:
    """Build and store the document at ``params.result.result_key``; returns its gzipped size."""
    result = params.result
    assert params.bucket and result.result_key and result.skeleton_key and result.advice_key
    bucket = params.bucket
    skeleton = SkeletonTimeline.from_bytes(await store.get_bytes(bucket, result.skeleton_key))
    advice = json.loads(gzip.decompress(await store.get_bytes(bucket, result.advice_key)))
    ghost: SkeletonTimeline | None = None
    ghost_moves: list[dict[str, Any]] | None = None
    ghost_verdict: dict[str, Any] | None = None
    if result.ghost_key:
        ghost = SkeletonTimeline.from_bytes(await store.get_bytes(bucket, result.ghost_key))
        plan_key = names.result_key(params.analysis_id, "ghost_plan")
        if await store.exists(bucket, plan_key):
            plan = json.loads(gzip.decompress(await store.get_bytes(bucket, plan_key)))
            ghost_moves = plan["moves"]
            ghost_verdict = plan.get("verdict")  # absent in plans stored before verdicts
    hold_map = params.hold_map or HoldMap(skeleton.frame_width, skeleton.frame_height)
    climb = advice.get("climb")
    if climb:
        skeleton = thin_off_climb(skeleton, climb["start_s"], climb["end_s"])

    def build() -> bytes:
        document = build_result_document(
            analysis_id=params.analysis_id,
            hold_map=hold_map,
            skeleton=skeleton,
            metrics=params.metrics if params.metrics else MetricsSummary(),
            moves=advice.get("moves", []),
            move_figures=advice.get("move_figures", []),
            advice=advice.get("advice", []),
            ghost=ghost,
            ghost_moves=ghost_moves,
            ghost_verdict=ghost_verdict,
            ghost_skipped_reason=result.ghost_skipped_reason,
            extra={
                # The climb inside the video (None in results recorded before segmentation).
                "climb": climb,
                "processing_time_ms": params.processing_time_ms,
                "used_detected_holds_after_deadline": result.used_detected_holds_after_deadline,
            },
        )
        return gzip.compress(encode_json(document), compresslevel=GZIP_LEVEL)

    data = await asyncio.to_thread(build)
    await store.put_bytes(bucket, result.result_key, data, content_type="application/json")
    return len(data)
