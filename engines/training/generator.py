"""`generate_plan`: a climber's profile in, a periodised, safety-checked training plan out.

Pure and deterministic: no clock, no randomness, no I/O; the same profile gives the same plan.
Constraints that cannot all be met (too many days for the level, sessions too short for the
goal, a goal its injuries rule out) never raise: the plan does what is safe and says so in its
``conflicts``. Only an invalid profile raises, when it is built (`TrainingInputError`).
"""

from __future__ import annotations

from typing import Final

from engines.training.grades import equivalent
from engines.training.history import DEFAULT_DRILLS, HistoryReading, read_history, usable
from engines.training.loads import deload, progress, trim_high_sets
from engines.training.notes import goal_conflicts, profile_conflicts, profile_notes
from engines.training.phases import PhaseTemplate, primary_goal, session_kinds, target_notes
from engines.training.phases import templates as phase_templates
from engines.training.plan import Focus, Note, Phase, Session, TrainingPlan, Week
from engines.training.profile import TrainingProfile
from engines.training.recipes import TITLES
from engines.training.safety import SAFETY_RULES, assert_safe, high_finger_cap, max_sessions
from engines.training.schedule import assign_days, finger_slots
from engines.training.sessions import Built, Drills, build_session, why_missing
from engines.training.vocab import Goal, Level

#: Kinds tried, in order, when a session kind cannot be built for this climber.
FALLBACK: Final = {
    "fingers": ("technique", "endurance", "conditioning"),
    "power": ("fingers", "technique", "conditioning"),
    "power_endurance": ("endurance", "technique", "conditioning"),
    "endurance": ("technique", "conditioning"),
    "technique": ("endurance", "conditioning"),
    "technique_volume": ("endurance", "conditioning"),
    "conditioning": (),
    "retest_strength": (),
    "retest_climbing": (),
    "retest": ("retest_strength",),
}
#: Finger-intensive days a week at most, per level (beginners: moderate loads only).
MAX_FINGER_DAYS: Final = {
    Level.BEGINNER: 2,
    Level.INTERMEDIATE: 3,
    Level.ADVANCED: 3,
    Level.ELITE: 3,
}
DELOAD_REASON: Final = (
    "Deload: half the sets at two points less effort, so the build weeks' "
    "adaptations consolidate before the retest (Anderson & Anderson)"
)
RETEST_REASON: Final = (
    "Retest, rested: the tests measure what the block built and set the next "
    "plan's loads (assess, plan, retest)"
)


class _Planner:
    """One generation: the profile, the drill rotation and the conflicts found on the way."""

    def __init__(self, profile: TrainingProfile, reading: HistoryReading, goal: Goal) -> None:
        self.profile = profile
        self.goal = goal
        self.sessions = min(profile.days_per_week, max_sessions(profile))
        self.cap = high_finger_cap(profile)
        self.technique_volume = reading.technique_volume is not None
        self.conflicts: list[Note] = []
        queue = [focus.drills[0] for focus in reading.focus]
        queue += [drill for focus in reading.focus for drill in focus.drills[1:]]
        queue += usable(DEFAULT_DRILLS, profile)
        focus_of: dict[str, Focus] = {}
        for focus in reading.focus:
            for drill in focus.drills:
                focus_of.setdefault(drill, focus)
        self.drills = Drills(tuple(dict.fromkeys(queue)), focus_of)

    def conflict(self, code: str, message: str, cites: tuple[str, ...]) -> None:
        note = Note(code, message, tuple(dict.fromkeys(cites)))
        if note not in self.conflicts:
            self.conflicts.append(note)

    def build(
        self, kind: str, phase: str, reason: str, cites: tuple[str, ...], *, light: bool = False
    ) -> Built | None:
        """The ``kind`` session, or the first fallback kind that builds. A replacement is a
        conflict, explained by `why_missing`, unless ``light`` (the caller explains that)."""
        built = build_session(
            kind,
            self.profile,
            phase=phase,
            reason=reason,
            cites=cites,
            drills=self.drills,
            light=light,
        )
        if built is not None:
            return built
        why, why_cites, _ = why_missing(kind, phase, self.profile)
        for fallback in FALLBACK[kind]:
            instead = build_session(
                fallback,
                self.profile,
                phase=phase,
                drills=self.drills,
                light=light,
                reason=f"in place of {TITLES[kind].lower()}",
                cites=cites + why_cites,
            )
            if instead is None:
                continue
            if not light:
                self.conflict(
                    "session_replaced",
                    f"{phase.replace('_', ' ')} phase: "
                    f"{TITLES[kind].lower()} sessions replaced by "
                    f"{TITLES[fallback].lower()}: {why}.",
                    cites + why_cites,
                )
            return instead
        return None

    def first_week(self, template: PhaseTemplate) -> list[Session]:
        """The phase's week as built: finger days limited and spaced, finger load capped."""
        self.drills.next = 0
        kinds = session_kinds(
            template,
            self.profile,
            self.sessions,
            goal=self.goal,
            technique_volume=self.technique_volume,
        )
        built = [self.build(kind, template.name, reason, cites) for kind, reason, cites in kinds]
        slots = len(finger_slots(self.sessions, MAX_FINGER_DAYS[self.profile.climbing_level]))
        finger_days = 0
        for index, session in enumerate(built):
            if session is None or not session.finger_intensive:
                continue
            finger_days += 1
            if finger_days > slots:
                _, reason, cites = kinds[index]
                built[index] = self.build(session.kind, template.name, reason, cites, light=True)
                self.conflict(
                    "finger_days_limited",
                    f"Only {slots} finger-intensive days fit "
                    f"{self.sessions} sessions with a finger rest day between them; "
                    "the other sessions are light.",
                    ("days_per_week", "level"),
                )
        while not trim_high_sets([b for b in built if b is not None], self.cap):
            last, heavy = max(
                (i, b) for i, b in enumerate(built) if b is not None and b.finger_intensive
            )
            _, reason, cites = kinds[last]
            built[last] = self.build(heavy.kind, template.name, reason, cites, light=True)
            self.conflict(
                "finger_load_capped",
                f"High-intensity finger work is capped at "
                f"{self.cap} sets a week for your level and age; one session is light.",
                ("level", "age"),
            )
        return self.place(built, [(r, c) for _, r, c in kinds])

    def place(
        self, built: list[Built | None], why: list[tuple[str, tuple[str, ...]]]
    ) -> list[Session]:
        kept = [(b, w) for b, w in zip(built, why, strict=True) if b is not None]
        days = assign_days(len(kept), [b.finger_intensive for b, _ in kept])
        sessions = [
            Session(day, b.kind, TITLES[b.kind], tuple(b.exercises), reason, cites)
            for day, (b, (reason, cites)) in zip(days, kept, strict=True)
        ]
        return sorted(sessions, key=lambda s: s.day)

    def retest_week(self) -> list[Session]:
        kinds = ["retest"] if self.sessions == 1 else ["retest_strength", "retest_climbing"]
        self.drills.next = 0
        built = [self.build(kind, "retest", "retest week", ()) for kind in kinds]
        return self.place(built, [(RETEST_REASON, ())] * len(built))


def generate_plan(profile: TrainingProfile) -> TrainingPlan:
    """The periodised plan for ``profile``: build phases, a deload week, a retest week.

    Args:
        profile: a checked profile (`profile_from_dict` builds one from plain values).

    Returns:
        The plan; it passes `engines.training.safety.check_plan` for ``profile``.

    Raises:
        UnsafePlanError: only on a generator bug (the plan failed its own safety check).
    """
    reading = read_history(profile)
    goal, goal_reason, goal_cites = primary_goal(profile)
    planner = _Planner(profile, reading, goal)
    weeks: list[Week] = []
    phases: list[Phase] = []
    for template in phase_templates(profile, goal):
        first = planner.first_week(template)
        start = len(weeks) + 1
        for step in range(template.weeks):
            sessions = progress(first, step, minutes=profile.session_minutes, cap=planner.cap)
            reason = (
                f"Week {step + 1} of {template.weeks} of the {template.name} phase"
                + ("" if step == 0 else ": one more set on main exercises")
                + ("" if step < 2 else ", one point more effort")
            )
            weeks.append(
                Week(len(weeks) + 1, template.name, "build", tuple(sessions), reason, goal_cites)
            )
        phases.append(
            Phase(
                template.name,
                template.focus,
                start,
                len(weeks),
                f"{template.why.capitalize()} ({goal_reason})",
                goal_cites,
            )
        )
    weeks.append(
        Week(len(weeks) + 1, "deload", "deload", tuple(deload(weeks[-1].sessions)), DELOAD_REASON)
    )
    weeks.append(
        Week(len(weeks) + 1, "retest", "retest", tuple(planner.retest_week()), RETEST_REASON)
    )
    phases.append(Phase("deload", "recovery", len(weeks) - 1, len(weeks) - 1, DELOAD_REASON))
    phases.append(Phase("retest", "measure progress", len(weeks), len(weeks), RETEST_REASON))
    build_weeks = len(weeks) - 2
    conflicts = [
        *profile_conflicts(profile),
        *planner.conflicts,
        *goal_conflicts(profile, weeks),
    ]
    notes = [*profile_notes(profile, reading), *target_notes(profile, build_weeks)]
    plan = TrainingPlan(
        level=profile.climbing_level,
        grade=profile.level,
        grade_equivalent=equivalent(profile.level),
        sessions_per_week=planner.sessions,
        phases=tuple(phases),
        weeks=tuple(weeks),
        focus=reading.focus,
        conflicts=tuple(conflicts),
        notes=tuple(notes),
        rules=tuple(rule.id for rule in SAFETY_RULES),
    )
    assert_safe(plan, profile)
    return plan
