"""`ascension bench training`: how long generating a training program takes.

Over ``--profiles`` random climber profiles drawn from a seeded generator (every grade, age,
availability, goal, injury and equipment combination the API accepts, with analysis histories),
each generated once untimed and then timed through the production call, `generate_plan`, which
includes the plan's own safety check. Figures: latency p50/p95/p99 of generation, of generation
plus the JSON document the persistence step stores, and the document's size.

Same-run baselines: the safety validator alone on the same plans (`check_plan`: the floor every
plan pays, so the ratio says what choosing costs over checking), and generation for a minimal
profile (one 10-minute day, no goals, no injuries, no history).
"""

from __future__ import annotations

import gzip
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from ascension.bench.report import BenchReport, summary

#: The plan is made in an activity, off the request path, but it should still be far inside the
#: API's p95 budget (seed 000: < 200 ms) so a synchronous preview stays possible.
GOAL_P95_MS = 20.0
WARMUP = 50


def random_profile(rng: random.Random) -> Any:
    """One climber profile drawn from ``rng`` over every value the API accepts."""
    from engines.training import (
        AnalysisHistory,
        Equipment,
        Goal,
        Grade,
        GradeSystem,
        Injury,
        TrainingProfile,
        allowed_grades,
    )
    from engines.training.history import ADVICE_FOCUS

    def grade() -> Grade:
        system = rng.choice(list(GradeSystem))
        return Grade(system, rng.choice(allowed_grades(system)))

    analyses = rng.randint(0, 20)
    rules = rng.sample(sorted(ADVICE_FOCUS), rng.randint(0, 4))
    metrics = {"movement_efficiency": round(rng.uniform(0.3, 1.0), 3)} if analyses else {}
    return TrainingProfile(
        level=grade(),
        age=rng.randint(10, 70),
        days_per_week=rng.randint(1, 7),
        session_minutes=rng.choice([15, 30, 45, 60, 75, 90, 120, 150, 180]),
        goals=tuple(rng.sample(list(Goal), rng.randint(0, 3))),
        target_grade=grade() if rng.random() < 0.5 else None,
        injuries=tuple(rng.sample(list(Injury), rng.choice([0, 0, 0, 1, 1, 2, 3]))),
        equipment=tuple(rng.sample(list(Equipment), rng.randint(0, 6))),
        history=AnalysisHistory(analyses, {r: rng.randint(0, analyses) for r in rules}, metrics),
    )


def _timed(call: Callable[..., object], *args: object) -> float:
    started = time.perf_counter()
    call(*args)
    return time.perf_counter() - started


def _ms(values: dict[str, float]) -> dict[str, float]:
    return {key: value if key == "n" else value * 1000 for key, value in values.items()}


def bench_training(*, profiles: int = 1000, seed: int = 0) -> BenchReport:
    """Generate plans for ``profiles`` random profiles (seeded: the same set on every run)."""
    from engines.training import (
        TrainingProfile,
        check_plan,
        encode_json,
        generate_plan,
        parse_grade,
        plan_to_document,
    )

    rng = random.Random(seed)
    drawn = [random_profile(rng) for _ in range(profiles)]
    minimal = TrainingProfile(level=parse_grade("6a"), age=30, days_per_week=1, session_minutes=10)
    for profile in drawn[:WARMUP]:
        generate_plan(profile)
    plans = [generate_plan(profile) for profile in drawn]  # untimed: the baseline checks these

    def document(profile: TrainingProfile) -> bytes:
        return encode_json(plan_to_document(generate_plan(profile), profile))

    generate_s, document_s, validate_s, minimal_s = [], [], [], []
    for profile, plan in zip(drawn, plans, strict=True):
        generate_s.append(_timed(generate_plan, profile))
        document_s.append(_timed(document, profile))
        validate_s.append(_timed(check_plan, plan, profile))
        minimal_s.append(_timed(generate_plan, minimal))
    encoded = [encode_json(plan_to_document(pl, p)) for pl, p in zip(plans, drawn, strict=True)]
    sizes = [len(each) for each in encoded]
    gzipped = [len(gzip.compress(each)) for each in encoded[:100]]
    with_conflicts = sum(1 for plan in plans if plan.conflicts) / profiles
    return _report(
        profiles,
        seed,
        {
            "generate": _ms(summary(generate_s)),
            "document": _ms(summary(document_s)),
            "validate": _ms(summary(validate_s)),
            "minimal": _ms(summary(minimal_s)),
        },
        sizes,
        gzipped,
        with_conflicts,
    )


def _report(
    profiles: int,
    seed: int,
    timings: dict[str, dict[str, float]],
    sizes: list[int],
    gzipped: list[int],
    with_conflicts: float,
) -> BenchReport:
    generate, document = timings["generate"], timings["document"]
    validate, floor = timings["validate"], timings["minimal"]
    report = BenchReport(
        name="training",
        title=f"Training programs: {profiles} random profiles (seed {seed})",
        columns=["figure", "p50 ms", "p95 ms", "p99 ms", "note"],
    )

    def row(label: str, values: dict[str, float], note: str = "") -> None:
        report.rows.append(
            [label, f"{values['p50']:.2f}", f"{values['p95']:.2f}", f"{values['p99']:.2f}", note]
        )

    row("generate_plan", generate, f"goal p95 <= {GOAL_P95_MS:g} ms; includes its safety check")
    row("generate + JSON document", document, "what the generate activity would return")
    row("baseline: check_plan alone", validate, "the safety validator on the same plans")
    row("baseline: minimal profile", floor, "1 day x 10 min, no goals, no history")
    size_kb = statistics.median(sizes) / 1000
    report.rows.append(
        ["document KB (median / max)", f"{size_kb:.1f}", f"{max(sizes) / 1000:.1f}", "",
         f"gzip median {statistics.median(gzipped) / 1000:.1f} KB"]
    )  # fmt: skip
    report.figures = {
        "profiles": profiles,
        "seed": seed,
        "generate_ms": generate,
        "generate_and_document_ms": document,
        "document_kb_median": size_kb,
        "document_kb_max": max(sizes) / 1000,
        "document_gzip_kb_median": statistics.median(gzipped) / 1000,
        "plans_with_conflicts": with_conflicts,
    }
    report.baselines = {"check_plan_ms": validate, "minimal_profile_ms": floor}
    report.ratios = {
        "generate_p50_vs_check_plan": generate["p50"] / max(validate["p50"], 1e-9),
        "generate_p50_vs_minimal_profile": generate["p50"] / max(floor["p50"], 1e-9),
        "document_p50_vs_generate": document["p50"] / max(generate["p50"], 1e-9),
    }
    report.goals = {
        "generate_p95_ms": GOAL_P95_MS,
        "generate_p95_met": generate["p95"] <= GOAL_P95_MS,
    }
    report.notes += [
        f"{with_conflicts:.0%} of the random profiles ask for something the plan cannot honour "
        "as asked (days, short sessions, injuries, equipment): those plans carry conflicts",
        "one process, one thread; each profile timed once after an untimed warm-up",
    ]
    return report
