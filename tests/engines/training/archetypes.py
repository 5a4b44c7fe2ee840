"""The archetype profiles the example tests (and the issue's note) check by hand."""

from __future__ import annotations

from typing import Any

#: A beginner (V1) with a finger pulley injury who trains twice a week at home.
BEGINNER_PULLEY_HOME: dict[str, Any] = {
    "level": "V1",
    "age": 29,
    "days_per_week": 2,
    "session_minutes": 60,
    "goals": ["technique"],
    "injuries": ["finger_pulley"],
    "equipment": ["home"],
}
#: An intermediate boulderer (V5) after power, with a gym and a hangboard, 4 days a week.
INTERMEDIATE_POWER: dict[str, Any] = {
    "level": "V5",
    "age": 25,
    "days_per_week": 4,
    "session_minutes": 90,
    "goals": ["power"],
    "target_grade": "V7",
    "equipment": ["gym", "hangboard"],
}
#: An advanced sport climber (7c+) after endurance whose analyses keep flagging cut feet.
ADVANCED_ENDURANCE_FEET_CUT: dict[str, Any] = {
    "level": "7c+",
    "age": 31,
    "days_per_week": 4,
    "session_minutes": 120,
    "goals": ["endurance"],
    "target_grade": "8a",
    "equipment": ["gym", "crag", "hangboard"],
    "history": {
        "analyses": 6,
        "advice_counts": {"feet_cut": 4, "bent_arms_rest": 2, "regrip": 1},
        "metrics": {"movement_efficiency": 0.71, "avg_tension": 0.45},
    },
}
#: The issue's contradiction: seven 15-minute sessions a week for power.
SEVEN_SHORT_SESSIONS_POWER: dict[str, Any] = {
    "level": "V5",
    "age": 25,
    "days_per_week": 7,
    "session_minutes": 15,
    "goals": ["power"],
    "equipment": ["gym", "hangboard", "campus_board"],
}
