"""Benchmark: contacts, biomechanics and advice on a 5-minute constructed climb.

Run ``python -m tests.engines.advice.bench_advice``; prints seconds per stage (no assertions:
speed is measured here, behaviour in the tests).
"""

from __future__ import annotations

import time

from engines.advice import generate_advice
from engines.biomech import analyse
from engines.contacts import find_moves, track_contacts
from tests.engines.advice.scenarios import BASE, HOLD_MAP, HOLDS, MORPHOLOGY
from tests.utils.skeletons import Pose, climb


def five_minutes() -> list[tuple[float, Pose]]:
    """9 000 frames at 30 fps: the right hand goes b → d and back every 2 s."""
    start = BASE.moved(hips=(130.0, 130.0))
    reached = start.moved(right_hand=HOLDS["d"], hips=(145.0, 135.0))
    keys: list[tuple[float, Pose]] = []
    for cycle in range(150):
        t = cycle * 2.0
        keys += [(t, start), (t + 0.6, start), (t + 1.0, reached), (t + 1.6, reached)]
    keys.append((300.0, start))
    return keys


def main() -> None:
    timeline = climb(five_minutes(), noise_cm=0.5)
    stages: dict[str, float] = {}
    clock = time.perf_counter()
    track = track_contacts(timeline, HOLD_MAP)
    stages["track_contacts"] = time.perf_counter() - clock
    clock = time.perf_counter()
    moves = find_moves(track, timeline)
    stages["find_moves"] = time.perf_counter() - clock
    clock = time.perf_counter()
    biomech = analyse(timeline, track, moves, MORPHOLOGY)
    stages["analyse"] = time.perf_counter() - clock
    clock = time.perf_counter()
    advice = generate_advice(timeline, track, moves, biomech, HOLD_MAP, MORPHOLOGY)
    stages["generate_advice"] = time.perf_counter() - clock
    print(f"{len(timeline)} frames, {len(moves)} moves, {len(advice)} advice items")
    for stage, seconds in stages.items():
        print(f"{stage:>16}: {seconds * 1000:7.1f} ms")
    print(f"{'total':>16}: {sum(stages.values()) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
