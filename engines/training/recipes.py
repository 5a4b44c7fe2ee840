"""Session recipes: the slots each session kind fills, and the candidates for each slot.

A slot names candidate exercises, best first; `engines.training.sessions` takes the first that
suits the climber and fits the time. A ``primary`` slot defines the kind: without it the session
is not built. `DRILL` stands for the week's next technique drill (history focus first).
"""

from __future__ import annotations

from typing import Final

CORE: Final = ("front_lever_progression", "hanging_leg_raises", "hollow_body", "dead_bug", "plank")
ANTAGONIST: Final = ("push_ups", "shoulder_external_rotation", "wrist_extensors")
MOBILITY: Final = ("hip_mobility", "shoulder_mobility")
DRILL: Final = ("drill",)  # a slot the session fills with the week's next technique drill

Slot = tuple[str, tuple[str, ...]]
RECIPES: Final[dict[str, tuple[Slot, ...]]] = {
    "technique": (
        ("primary", DRILL),
        ("drill", DRILL),
        ("volume", ("volume_bouldering", "route_volume", "arc_traverse")),
        ("core", CORE),
        ("mobility", MOBILITY),
    ),
    "technique_volume": (
        ("primary", DRILL),
        ("drill", DRILL),
        ("drill", DRILL),
        ("volume", ("arc_traverse", "route_volume")),
        ("mobility", MOBILITY),
    ),
    "fingers": (
        ("primary", ("max_hangs", "repeaters", "limit_bouldering", "board_limit_bouldering")),
        ("pull", ("lock_offs", "pull_ups", "scapular_pull_ups", "band_rows")),
        ("volume", ("route_volume", "arc_traverse")),
        ("antagonist", ANTAGONIST),
        ("core", CORE),
    ),
    "power": (
        (
            "primary",
            ("campus_ladders", "campus_feet_on", "board_power_problems", "power_bouldering"),
        ),
        ("pull", ("explosive_pull_ups", "pull_ups")),
        ("core", CORE),
        ("antagonist", ANTAGONIST),
    ),
    "power_endurance": (
        ("primary", ("four_by_fours", "route_intervals")),
        ("drill", DRILL),
        ("core", CORE),
        ("antagonist", ANTAGONIST),
    ),
    "endurance": (
        ("primary", ("arc_traverse", "route_volume")),
        ("drill", DRILL),
        ("volume", ("route_volume",)),
        ("mobility", MOBILITY),
    ),
    "conditioning": (
        ("pull", ("pull_ups", "scapular_pull_ups", "band_rows")),
        ("antagonist", ("push_ups",)),
        ("core", CORE),
        ("legs", ("split_squats",)),
        ("antagonist", ("shoulder_external_rotation", "wrist_extensors")),
        ("core", CORE),
        ("mobility", MOBILITY),
        ("mobility", MOBILITY),
    ),
    "retest_strength": (
        ("test", ("test_max_hang", "test_max_boulder")),
        ("test", ("test_pull_ups", "test_push_ups")),
        ("test", ("test_plank",)),
    ),
    "retest_climbing": (
        ("primary", ("test_recorded_climb",)),
        ("test", ("test_arc",)),
        ("mobility", MOBILITY),
    ),
    "retest": (
        ("test", ("test_recorded_climb",)),
        ("test", ("test_max_hang", "test_max_boulder")),
        ("test", ("test_pull_ups", "test_push_ups")),
        ("test", ("test_plank",)),
    ),
}
#: Primary candidates that replace the recipe's in one phase (base: conditioning, not maximal).
PHASE_PRIMARY: Final = {("base", "fingers"): ("repeaters", "volume_bouldering")}
TITLES: Final = {
    "technique": "Technique",
    "technique_volume": "Technique volume",
    "fingers": "Finger strength",
    "power": "Power",
    "power_endurance": "Power endurance",
    "endurance": "Endurance",
    "conditioning": "Strength and conditioning",
    "retest_strength": "Retest: strength",
    "retest_climbing": "Retest: climbing",
    "retest": "Retest",
}


def primary_candidates(kind: str, phase: str) -> tuple[str, ...]:
    for role, slot in RECIPES[kind]:
        if role == "primary":
            return PHASE_PRIMARY.get((phase, kind), slot)
    return ()
