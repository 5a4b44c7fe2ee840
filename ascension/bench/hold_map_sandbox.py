"""What a hold map costs inside the Temporal workflow sandbox.

VideoAnalysisWorkflow keeps the detector's `HoldMap` in workflow state, so the default data
converter decodes it (and encodes it again for later activities) inside the sandbox, on the
workflow task's thread, where Temporal's deadlock detector fails any activation that holds the
thread for 2 s (TMPRL1101). An uncompact 201-hold map (15,066 outline points, 618 KB) did. This
module measures a map's compact JSON size and its sandboxed decode/encode time, for the compact
format (10-vertex outlines at 1e-3, centres and boxes at 1e-4) against the old one.

How the time is measured: `HoldMapProbeWorkflow` takes the map as a `RawValue` and decodes it
with `workflow.payload_converter()`, the very converter instance the SDK uses for typed workflow
arguments and activity results (`_WorkflowInstanceImpl._convert_payloads`), inside the
`SandboxedWorkflowRunner` with its restrictions on. Only the clock reads leave the sandbox
(`sandbox_unrestricted`); history event times have millisecond resolution and include polling.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from schema.holds import HOLD_TYPES, Hold, HoldMap

if TYPE_CHECKING:
    from temporalio.client import Client

    from core.settings import Settings

#: The compact format the detector now emits (`engines.holds.outline.MAX_POINTS`; not imported:
#: this module is re-imported inside the sandbox, which must not load OpenCV).
COMPACT_VERTICES = 10
#: The old detector's outlines: 15,066 points over 201 holds is ~75 per hold.
BASELINE_VERTICES = 75
#: The size the compact format promises for a 200-hold map.
MAX_COMPACT_JSON_BYTES = 60_000
#: Temporal's deadlock detector: an activation holding the workflow thread this long fails.
DEADLOCK_DETECTOR_S = 2.0

_COLORS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "black", "grey")
_TYPES = tuple(sorted(HOLD_TYPES))


def _hold_map(count: int, vertices: int, digits: int | None, seed: int) -> HoldMap:
    """Irregular blob outlines on a 4032x3024 photo; ``digits=None`` keeps full float precision
    (the old format), otherwise vertices get ``digits`` and centres/boxes one more."""

    def rnd(value: float, places: int | None) -> float:
        return value if places is None else round(value, places)

    fine = None if digits is None else digits + 1
    rng = random.Random(seed)
    holds = []
    for index in range(count):
        cx, cy = rng.uniform(0.03, 0.97), rng.uniform(0.03, 0.97)
        radius = rng.uniform(0.004, 0.03)
        polygon = []
        for k in range(vertices):
            angle = 2 * math.pi * (k + rng.uniform(-0.3, 0.3)) / vertices
            r = radius * rng.uniform(0.7, 1.0)
            x = min(1.0, max(0.0, cx + r * math.cos(angle) * 0.75))  # 4:3 photo: x is wider
            y = min(1.0, max(0.0, cy + r * math.sin(angle)))
            polygon.append((rnd(x, digits), rnd(y, digits)))
        xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
        pad = radius * 0.1  # the detector's box is the model's, a little wider than the outline
        x0, y0 = rnd(max(0.0, min(xs) - pad), fine), rnd(max(0.0, min(ys) - pad), fine)
        x1, y1 = rnd(min(1.0, max(xs) + pad), fine), rnd(min(1.0, max(ys) + pad), fine)
        kind = "volume" if index % 25 == 0 else rng.choice(_TYPES)
        color = rng.choice(_COLORS)
        route = "" if kind == "volume" else (f"{color}-2" if index % 7 == 0 else color)
        holds.append(
            Hold(
                id=f"h{index + 1}",
                x=rnd(cx, fine),
                y=rnd(cy, fine),
                type=kind,
                polygon=polygon,
                color=color,
                confidence=rnd(rng.uniform(0.3, 1.0), digits),
                bbox=(x0, y0, x1, y1),
                route=route,
            )
        )
    return HoldMap(image_width=4032, image_height=3024, holds=holds)


def compact_hold_map(count: int = 200, vertices: int = COMPACT_VERTICES, seed: int = 7) -> HoldMap:
    """A map as the detector now emits it: outlines at 1e-3, centres/boxes at 1e-4.

    Every outline has ``vertices`` points; the default, 10, is the most the detector keeps, so
    the default map is the compact format's worst case for outline size.
    """
    return _hold_map(count, vertices, 3, seed)


def baseline_hold_map(count: int = 200, seed: int = 7) -> HoldMap:
    """A map as the old detector emitted it: 75-vertex outlines, full float precision."""
    return _hold_map(count, BASELINE_VERTICES, None, seed)


def compact_json_bytes(hold_map: HoldMap) -> int:
    """Size of the map as compact JSON: what the default converter puts in workflow history."""
    return len(json.dumps(dataclasses.asdict(hold_map), separators=(",", ":")).encode())


@dataclass
class ProbeResult:
    """What the probe workflow saw: the map it decoded and how long each conversion took."""

    hold_map: HoldMap
    decode_s: list[float]
    encode_s: list[float]


def _clock() -> float:
    # The sandbox forbids reading clocks (non-determinism); only this read leaves it.
    with workflow.unsafe.sandbox_unrestricted():
        return time.perf_counter()


@workflow.defn(name="bench.HoldMapProbe")
class HoldMapProbeWorkflow:
    """Decodes (and re-encodes) a hold map ``repeats`` times in the sandbox and returns it."""

    @workflow.run
    async def run(self, raw: RawValue, repeats: int) -> ProbeResult:
        converter = workflow.payload_converter()
        decode_s: list[float] = []
        encode_s: list[float] = []
        hold_map: HoldMap | None = None
        for _ in range(max(1, repeats)):
            begin = _clock()
            hold_map = converter.from_payload(raw.payload, HoldMap)
            middle = _clock()
            converter.to_payload(hold_map)
            decode_s.append(middle - begin)
            encode_s.append(_clock() - middle)
        assert hold_map is not None
        return ProbeResult(hold_map, decode_s, encode_s)


async def probe_hold_map(
    client: Client, hold_map: HoldMap, *, repeats: int = 1, debug_mode: bool = False
) -> ProbeResult:
    """Run `HoldMapProbeWorkflow` on ``hold_map`` with a worker of our own on a fresh task queue.

    The worker uses the default `SandboxedWorkflowRunner` and data converter. ``debug_mode``
    turns the deadlock detector off (it also lets ``breakpoint()`` through, nothing else), so a
    map too slow for production can still be timed instead of failing its task forever.
    """
    from temporalio.worker import Worker

    queue = f"hold-map-probe-{uuid.uuid4().hex[:10]}"
    raw = RawValue(client.data_converter.payload_converter.to_payload(hold_map))
    async with Worker(
        client, task_queue=queue, workflows=[HoldMapProbeWorkflow], debug_mode=debug_mode
    ):
        return await client.execute_workflow(
            HoldMapProbeWorkflow.run, args=[raw, repeats], id=queue, task_queue=queue
        )


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


async def hold_map_sandbox_figures(
    client: Client, *, holds: int = 200, repeats: int = 5
) -> dict[str, float | int | bool]:
    """Compact against baseline map: JSON bytes and median sandboxed decode time (ms) of each.

    ``ratio`` is baseline decode time / compact decode time. The first decode of each map in a
    fresh sandbox is reported too: it is what one workflow task pays after a cache eviction.
    Timings are on whatever else this machine is doing; compare runs on one machine only.
    """
    figures: dict[str, float | int | bool] = {"holds": holds}
    for label, hold_map in (
        ("", compact_hold_map(holds)),
        ("baseline_", baseline_hold_map(holds)),
    ):
        probe = await probe_hold_map(client, hold_map, repeats=repeats, debug_mode=True)
        if probe.hold_map != hold_map:
            raise AssertionError(f"{label or 'compact '}map changed in the sandbox round trip")
        converter = client.data_converter.payload_converter
        payload = converter.to_payload(hold_map)
        outside: list[float] = []
        for _ in range(repeats):
            begin = time.perf_counter()
            converter.from_payload(payload, HoldMap)
            outside.append(time.perf_counter() - begin)
        figures |= {
            f"{label}json_bytes": compact_json_bytes(hold_map),
            f"{label}polygon_points": sum(len(h.polygon) for h in hold_map.holds),
            f"{label}sandbox_decode_ms": _ms(probe.decode_s),
            f"{label}sandbox_first_decode_ms": probe.decode_s[0] * 1000,
            f"{label}sandbox_encode_ms": _ms(probe.encode_s),
            f"{label}outside_sandbox_decode_ms": _ms(outside),
        }
    figures["ratio"] = float(figures["baseline_sandbox_decode_ms"]) / max(
        float(figures["sandbox_decode_ms"]), 1e-9
    )
    figures["baseline_trips_deadlock_detector"] = (
        float(figures["baseline_sandbox_first_decode_ms"])
        + float(figures["baseline_sandbox_encode_ms"])
        >= DEADLOCK_DETECTOR_S * 1000
    )
    return figures


async def bench_hold_map_sandbox(
    settings: Settings, *, holds: int = 200, repeats: int = 5
) -> dict[str, float | int | bool]:
    """`hold_map_sandbox_figures` on a fresh in-memory dev server, for a bench command."""
    from ascension.servers.temporal import start_dev_server

    env = await start_dev_server(settings)
    try:
        return await hold_map_sandbox_figures(env.client, holds=holds, repeats=repeats)
    finally:
        await env.shutdown()
