"""A 200-hold map in the compact format is small and crosses the workflow sandbox unchanged.

VideoAnalysisWorkflow keeps the detector's map in state; an uncompact one (618 KB) took over 2 s
to convert in the sandbox and tripped the deadlock detector. Sizes are asserted, times only
printed: timing on a shared machine is for `ascension.bench.hold_map_sandbox`, not for a test.
"""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from ascension.bench.hold_map_sandbox import (
    COMPACT_VERTICES,
    MAX_COMPACT_JSON_BYTES,
    compact_hold_map,
    compact_json_bytes,
    probe_hold_map,
)

pytestmark = pytest.mark.integration


def test_compact_200_hold_map_fits_in_60_kb() -> None:
    from engines.holds.outline import MAX_POINTS

    # The worst case: every outline at the detector's vertex cap.
    assert COMPACT_VERTICES == MAX_POINTS
    assert compact_json_bytes(compact_hold_map(200)) <= MAX_COMPACT_JSON_BYTES


async def test_workflow_round_trips_compact_200_hold_map(
    temporal_dev_env: WorkflowEnvironment,
) -> None:
    hold_map = compact_hold_map(200)
    # The default worker: sandboxed runner, default converter, deadlock detector on.
    probe = await probe_hold_map(temporal_dev_env.client, hold_map, repeats=1)
    assert probe.hold_map == hold_map
    print(
        f"compact 200-hold map: {compact_json_bytes(hold_map)} bytes, "
        f"sandbox decode {probe.decode_s[0] * 1000:.1f} ms, "
        f"encode {probe.encode_s[0] * 1000:.1f} ms"
    )
