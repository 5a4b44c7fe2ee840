"""The plan as one versioned JSON document, published in
``schema/json/training_program.schema.json``, and the profile as plain values.

`plan_to_document` writes the document the app reads (and the persistence step stores);
`profile_to_dict` writes a profile so `engines.training.profile.profile_from_dict` reads it back.
No timestamps and no ids: the same plan always gives the same bytes; whoever stores it adds them.
"""

from __future__ import annotations

import json
from typing import Any, Final

from engines.training.catalogue import CATALOGUE
from engines.training.grades import Grade
from engines.training.plan import Focus, Note, Phase, Prescription, Session, TrainingPlan, Week
from engines.training.profile import TrainingProfile
from engines.training.safety import RULES_BY_ID

#: Name of the format, so a client can tell this document from any other JSON.
FORMAT: Final = "ascension.training_program"
#: Bumped on any change an existing reader would misread; adding fields does not bump it.
VERSION: Final = 1


def _grade(grade: Grade | None) -> dict[str, str] | None:
    return None if grade is None else {"system": grade.system.value, "grade": grade.value}


def profile_to_dict(profile: TrainingProfile) -> dict[str, Any]:
    """The profile as JSON-ready values (the document's ``profile``)."""
    history = profile.history
    return {
        "level": _grade(profile.level),
        "age": profile.age,
        "days_per_week": profile.days_per_week,
        "session_minutes": profile.session_minutes,
        "goals": [goal.value for goal in profile.goals],
        "target_grade": _grade(profile.target_grade),
        "injuries": [injury.value for injury in profile.injuries],
        "equipment": [each.value for each in profile.equipment],
        "history": {
            "analyses": history.analyses,
            "advice_counts": dict(history.advice_counts),
            "metrics": dict(history.metrics),
        },
    }


def _why(item: Prescription | Session | Week | Phase | Note | Focus) -> dict[str, Any]:
    text = item.message if isinstance(item, Note) else item.reason
    return {"reason" if not isinstance(item, Note) else "message": text, "cites": list(item.cites)}


def _exercise(item: Prescription) -> dict[str, Any]:
    return {
        "exercise_id": item.exercise_id,
        "name": item.name,
        "category": item.category,
        "finger": item.finger.name.lower(),
        "sets": item.sets,
        "reps": item.reps,
        "work_s": item.work_s,
        "rest_s": item.rest_s,
        "rpe": item.rpe,
        "intensity": item.intensity,
        "minutes": item.minutes,
        **_why(item),
    }


def _session(session: Session) -> dict[str, Any]:
    return {
        "day": session.day,
        "kind": session.kind,
        "title": session.title,
        "minutes": session.minutes,
        "finger_intensive": session.finger_intensive,
        "exercises": [_exercise(item) for item in session.exercises],
        **_why(session),
    }


def _week(week: Week) -> dict[str, Any]:
    return {
        "number": week.number,
        "phase": week.phase,
        "kind": week.kind,
        "high_finger_sets": week.high_finger_sets,
        "sessions": [_session(session) for session in week.sessions],
        **_why(week),
    }


def plan_to_document(plan: TrainingPlan, profile: TrainingProfile) -> dict[str, Any]:
    """The plan document: JSON-ready dicts and lists, valid against the published schema.

    Args:
        plan: from `engines.training.generate_plan`.
        profile: the profile it was generated from (echoed, so the document stands alone).
    """
    used = sorted(
        {item.exercise_id for week in plan.weeks for s in week.sessions for item in s.exercises}
    )
    return {
        "format": FORMAT,
        "version": VERSION,
        "profile": profile_to_dict(profile),
        "level": plan.level.value,
        "grade": _grade(plan.grade),
        "grade_equivalent": _grade(plan.grade_equivalent),
        "sessions_per_week": plan.sessions_per_week,
        "weeks_total": len(plan.weeks),
        "phases": [
            {
                "name": p.name,
                "focus": p.focus,
                "first_week": p.first_week,
                "last_week": p.last_week,
                **_why(p),
            }
            for p in plan.phases
        ],
        "weeks": [_week(week) for week in plan.weeks],
        "focus": [{"code": f.code, "drills": list(f.drills), **_why(f)} for f in plan.focus],
        "conflicts": [{"code": n.code, **_why(n)} for n in plan.conflicts],
        "notes": [{"code": n.code, **_why(n)} for n in plan.notes],
        "safety_rules": [
            {
                "id": rule_id,
                "rule": RULES_BY_ID[rule_id].rule,
                "source": RULES_BY_ID[rule_id].source,
            }
            for rule_id in plan.rules
        ],
        "exercises": {
            exercise_id: {
                "name": CATALOGUE[exercise_id].name,
                "how": CATALOGUE[exercise_id].how,
                "benefit": CATALOGUE[exercise_id].benefit,
                "category": CATALOGUE[exercise_id].category.value,
                "equipment": sorted(each.value for each in CATALOGUE[exercise_id].equipment),
                "finger": CATALOGUE[exercise_id].finger.name.lower(),
                "contraindications": sorted(
                    each.value for each in CATALOGUE[exercise_id].contraindications
                ),
            }
            for exercise_id in used
        },
    }


def encode_json(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON (the bytes are the same for the same plan)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
