"""A realistic analysis to encode: a climber moving up a wall, the ghost, holds, moves, advice.

The climber's skeleton goes through the same clean-up as real footage: MediaPipe-like jitter
(2 px raw on x and y, three times that on z), a long and a short occlusion, two undecodable
frames, then the pose engine's own `interpolate_gaps` and `one_euro_smooth`. What is left jitters
by ~0.9 px, as a smoothed MediaPipe skeleton does. The ghost is what `engines.ghost` writes: noise
free minimum-jerk moves, z = 0 and full visibility on every frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engines.advice.model import AdviceItem
from engines.biomech import MoveFigures
from engines.contacts import Move
from engines.limbs import Limb
from engines.pose.postprocess import interpolate_gaps, one_euro_smooth
from engines.pose.timeline import FrameQuality, SkeletonTimeline
from schema.holds import Hold, HoldMap
from tests.utils.skeletons import Body, Scene, project, solve

SCENE = Scene()  # portrait 1080 x 1920, 4 px per wall cm
HOMES = {
    Limb.LEFT_HAND: (100.0, 150.0),
    Limb.RIGHT_HAND: (160.0, 150.0),
    Limb.LEFT_FOOT: (110.0, 30.0),
    Limb.RIGHT_FOOT: (150.0, 30.0),
}
#: Climbers alternate hands and feet.
ORDER = (Limb.RIGHT_HAND, Limb.LEFT_FOOT, Limb.LEFT_HAND, Limb.RIGHT_FOOT)
HOLD_TYPES = ("jug", "crimp", "sloper", "pinch", "edge", "foot_chip")


@dataclass(frozen=True)
class Climb:
    """A constructed analysis.

    Attributes:
        skeleton: the climber after gap filling and One-Euro smoothing.
        clean: ``(T, 33, 4)`` the climber's landmarks before any noise.
        ghost: the ghost on the skeleton's timestamps.
        hold_map: every hold the climber and the ghost use.
        moves: the climber's moves.
        ghost_moves: the ghost's moves as the document takes them.
    """

    skeleton: SkeletonTimeline
    clean: np.ndarray
    ghost: SkeletonTimeline
    hold_map: HoldMap
    moves: list[Move]
    ghost_moves: list[dict[str, object]]

    @property
    def jitter_px(self) -> float:
        """RMS distance in pixels between the smoothed and the clean climber, detected frames."""
        detected = self.skeleton.quality == FrameQuality.DETECTED
        size = np.array([SCENE.frame_width, SCENE.frame_height])
        error = (self.skeleton.landmarks[detected, :, :2] - self.clean[detected, :, :2]) * size
        return float(np.sqrt(np.mean(error**2)))


def minimum_jerk(progress: np.ndarray) -> np.ndarray:
    p = np.clip(progress, 0.0, 1.0)
    return p**3 * (10 - 15 * p + 6 * p**2)


def synthetic_climb(seconds: float = 30.0, *, fps: float = 30.0, seed: int = 0) -> Climb:
    """A climb of ``seconds`` with one move every two seconds (15 in 30 s)."""
    rng = np.random.default_rng(seed)
    frames = round(seconds * fps)
    times = np.arange(frames) / fps
    count = round(seconds / 2)
    slot = (seconds - 1.5) / count

    holds: list[tuple[float, float]] = []
    on: dict[Limb, int] = {}
    for limb, home in HOMES.items():
        on[limb] = len(holds)
        holds.append(home)
    # (limb, from hold, to hold) per move; heights go up 28 cm a limb move, then back down, so
    # a 5-minute climb stays in the picture.
    plan: list[tuple[Limb, int, int]] = []
    for k in range(count):
        limb = ORDER[k % 4]
        level = 7.0 * (30 - abs((k + 1) % 60 - 30))
        home = HOMES[limb]
        target = (home[0] + rng.uniform(-12, 12), home[1] + level + rng.uniform(-3, 3))
        plan.append((limb, on[limb], len(holds)))
        on[limb] = len(holds)
        holds.append(target)
    holds.append((130.0, 150.0 + 7.0 * min(count, 30) + 40.0))  # the finish jug
    ids = [f"h{i:03d}" for i in range(len(holds))]

    starts = 1.0 + slot * np.arange(count) + rng.uniform(0.0, 0.4, count)
    durations = rng.uniform(0.5, 1.0, count)
    climber = _landmarks(times, plan, holds, starts, durations)
    # The ghost moves without pauses or hesitation: evenly spread, 0.6 of each slot.
    ghost_starts = 1.0 + slot * np.arange(count)
    ghost = _landmarks(times, plan, holds, ghost_starts, np.full(count, 0.6 * slot))
    ghost[..., 2], ghost[..., 3] = 0.0, 1.0

    skeleton = _as_filmed(climber, times, fps, rng)
    moves = [
        Move(
            index=k,
            limb=limb,
            from_hold=ids[source],
            to_hold=ids[target],
            start_s=float(starts[k]),
            end_s=float(starts[k] + durations[k]),
            start_frame=math.ceil(starts[k] * fps),
            end_frame=math.ceil((starts[k] + durations[k]) * fps),
        )
        for k, (limb, source, target) in enumerate(plan)
    ]
    ghost_moves: list[dict[str, object]] = [
        {
            "limb": limb.value,
            "from_hold": ids[source],
            "to_hold": ids[target],
            "start_s": round(float(ghost_starts[k]), 3),
            "end_s": round(float(ghost_starts[k] + 0.6 * slot), 3),
        }
        for k, (limb, source, target) in enumerate(plan)
    ]
    return Climb(
        skeleton=skeleton,
        clean=climber,
        ghost=SkeletonTimeline(
            timestamps_s=times,
            landmarks=ghost,
            quality=np.zeros(frames, dtype=np.uint8),
            frame_width=SCENE.frame_width,
            frame_height=SCENE.frame_height,
            source_fps=fps,
        ),
        hold_map=_hold_map(holds, ids, rng),
        moves=moves,
        ghost_moves=ghost_moves,
    )


def _landmarks(
    times: np.ndarray,
    plan: list[tuple[Limb, int, int]],
    holds: list[tuple[float, float]],
    starts: np.ndarray,
    durations: np.ndarray,
) -> np.ndarray:
    """``(T, 33, 4)`` landmarks of a body doing ``plan``'s moves at the given times."""
    where = np.asarray(holds)
    limbs = {limb: np.tile(where[i], (len(times), 1)) for i, limb in enumerate(HOMES)}
    for (limb, source, target), start, duration in zip(plan, starts, durations, strict=True):
        limbs[limb] += minimum_jerk((times - start) / duration)[:, None] * (
            where[target] - where[source]
        )
    hands = (limbs[Limb.LEFT_HAND] + limbs[Limb.RIGHT_HAND]) / 2
    feet = (limbs[Limb.LEFT_FOOT] + limbs[Limb.RIGHT_FOOT]) / 2
    hips = feet + 0.55 * (hands - feet) + np.column_stack([5 * np.sin(0.7 * times), 0 * times])
    hip_depth = 24.0 + 3.0 * np.sin(0.5 * times)
    fields = {limb.value: points for limb, points in limbs.items()}
    fields |= {
        "hips": hips,
        "hip_depth": hip_depth,
        "shoulder_depth": hip_depth + 2.0,
        "lean_deg": 5.0 * np.sin(0.3 * times),
    }
    points, _ = solve(fields, Body())
    return project(points, hip_depth, SCENE).astype(np.float32)


def _as_filmed(
    clean: np.ndarray, times: np.ndarray, fps: float, rng: np.random.Generator
) -> SkeletonTimeline:
    """The pose engine's view of ``clean``: jitter, occlusions, then its own clean-up."""
    frames = len(times)
    raw = clean.astype(np.float64).copy()
    width, height = SCENE.frame_width, SCENE.frame_height
    raw[..., :3] += rng.normal(0.0, 1.0, raw[..., :3].shape) * [2 / width, 2 / height, 6 / width]
    # Facing the wall: the face is half hidden; each landmark's confidence wanders slowly.
    level = np.where(np.arange(33) <= 10, 0.45, 0.93)
    wander = 0.05 * np.sin(np.outer(times, rng.uniform(0.1, 1.0, 33)) + rng.uniform(0, 6, 33))
    raw[..., 3] = np.clip(level + wander + rng.normal(0.0, 0.01, (frames, 33)), 0.0, 1.0)
    quality = np.zeros(frames, dtype=np.uint8)
    long_gap = slice(int(0.4 * frames), int(0.4 * frames + 1.5 * fps))  # climber hidden
    short_gap = slice(int(0.7 * frames), int(0.7 * frames) + 6)  # tracker blinked
    quality[long_gap] = quality[short_gap] = FrameQuality.MISSING
    quality[int(0.9 * frames) : int(0.9 * frames) + 2] = FrameQuality.CORRUPT
    raw[quality > FrameQuality.INTERPOLATED] = np.nan
    timeline = SkeletonTimeline(times, raw, quality, width, height, fps)
    return one_euro_smooth(interpolate_gaps(timeline))


def _hold_map(
    centres: list[tuple[float, float]], ids: list[str], rng: np.random.Generator
) -> HoldMap:
    holds = []
    for index, (hold_id, centre) in enumerate(zip(ids, centres, strict=True)):
        vertices = int(rng.integers(12, 21))
        angles = np.sort(rng.uniform(0, 2 * np.pi, vertices))
        radii = rng.uniform(4.0, 9.0) * rng.uniform(0.7, 1.0, vertices)
        outline = SCENE.normalise(
            np.column_stack([np.cos(angles), np.sin(angles)]) * radii[:, None] + centre
        )
        middle = SCENE.normalise(np.asarray(centre))
        low, high = outline.min(axis=0), outline.max(axis=0)
        holds.append(
            Hold(
                id=hold_id,
                x=float(middle[0]),
                y=float(middle[1]),
                type=HOLD_TYPES[index % len(HOLD_TYPES)],
                polygon=[(float(x), float(y)) for x, y in outline],
                color="yellow",
                confidence=float(rng.uniform(0.6, 0.99)),
                bbox=(float(low[0]), float(low[1]), float(high[0]), float(high[1])),
                route="yellow",
            )
        )
    return HoldMap(image_width=SCENE.frame_width, image_height=SCENE.frame_height, holds=holds)


def move_figures(moves: list[Move], rng: np.random.Generator) -> list[dict[str, object]]:
    """Plausible per-move biomechanics, as `MoveFigures.to_dict` writes them."""
    return [
        MoveFigures(
            index=move.index,
            limb=move.limb,
            duration_s=move.end_s - move.start_s,
            hesitation_s=float(rng.uniform(0.0, 0.4)),
            pause_before_s=float(rng.uniform(0.2, 1.5)),
            reach_cm=float(rng.uniform(60, 170)),
            hand_span_cm=float(rng.uniform(30, 80)) if move.limb.is_hand else math.nan,
            cog_path_cm=float(rng.uniform(10, 40)),
            cog_chord_cm=float(rng.uniform(5, 10)),
            efficiency=float(rng.uniform(0.4, 0.95)),
            hip_wall_cm=float(rng.uniform(15, 40)),
            hand_force_bw=float(rng.uniform(0.2, 0.8)),
        ).to_dict()
        for move in moves
    ]


def advice(moves: list[Move], count: int) -> list[dict[str, object]]:
    """``count`` advice items on the first moves, with messages as long as the real rules'."""
    items = []
    for move in moves[:count]:
        items.append(
            AdviceItem(
                rule_id="long_hesitation",
                move_index=move.index,
                start_s=move.start_s,
                end_s=move.end_s,
                limbs=(move.limb.value,),
                holds=(move.from_hold or "", move.to_hold),
                severity="warning",
                message_key="advice.long_hesitation",
                message_en=(
                    f"Move {move.index + 1}: your {move.limb.value.replace('_', ' ')} hovered "
                    f"{move.end_s - move.start_s:.1f} s before reaching {move.to_hold}. Read the "
                    "sequence from the ground or a rest, then commit."
                ),
                evidence={"hesitation_s": move.end_s - move.start_s, "threshold_s": 0.8},
            ).to_dict()
        )
    return items
