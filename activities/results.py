"""Stores the app's result document: loads what the GPU steps stored, has the document engine
assemble it (`engines.document.assemble`), and stores the bytes for the API to serve as they are.
"""

from __future__ import annotations

import asyncio

from core.storage import ObjectStore
from engines.document.assemble import StoredSteps, assemble_result_document
from schema import names
from schema.analysis import PersistResultsInput


async def write_result_document(store: ObjectStore, params: PersistResultsInput) -> int:
    """Build and store the document at ``params.result.result_key``; returns its gzipped size."""
    result = params.result
    assert params.bucket and result.result_key and result.skeleton_key and result.advice_key
    bucket = params.bucket
    stored = StoredSteps(
        skeleton=await store.get_bytes(bucket, result.skeleton_key),
        advice=await store.get_bytes(bucket, result.advice_key),
    )
    if result.ghost_key:
        stored.ghost = await store.get_bytes(bucket, result.ghost_key)
        # Runs whose ghost step returned before `GhostResult.plan_key` existed stored the plan
        # at the same key without saying so.
        plan_key = result.ghost_plan_key or names.result_key(params.analysis_id, "ghost_plan")
        if await store.exists(bucket, plan_key):
            stored.ghost_plan = await store.get_bytes(bucket, plan_key)
    data = await asyncio.to_thread(assemble_result_document, params, stored)
    await store.put_bytes(bucket, result.result_key, data, content_type="application/json")
    return len(data)
