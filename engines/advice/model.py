"""Advice items and the rule registry.

A rule is a small function from an `AdviceContext` to advice items, registered with `@rule`.
Its thresholds are module-level constants next to it, so a coach can read and tune each rule in
one place. Every item carries an i18n key (``advice.<rule_id>``), the English text, and the
figures that triggered it (``evidence``), which translations interpolate too.

A rule reports one item per finding (per move, per rest...); `engines.advice.engine` then merges a
rule's findings into one item that lists them as its ``occurrences``, and ranks and caps the items.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from engines.advice.context import AdviceContext

Severity = Literal["info", "warning", "critical"]
SEVERITIES: Final = ("info", "warning", "critical")


#: Order of the severities, mildest first.
SEVERITY_RANK: Final = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def _check_figures(evidence: dict[str, float]) -> None:
    for name, value in evidence.items():
        if not math.isfinite(value):
            raise ValueError(f"evidence {name!r} is not a finite number")


@dataclass(frozen=True)
class Occurrence:
    """One time a finding was seen: where, when, and its own figures.

    Attributes:
        move_index: the move concerned, or None (a rest, a spell between moves).
        start_s: start of the time range.
        end_s: its end.
        holds: ids of the holds concerned.
        severity: this occurrence's own severity.
        evidence: its figures, named like `AdviceItem.evidence`.
    """

    move_index: int | None
    start_s: float
    end_s: float
    holds: tuple[str, ...]
    severity: Severity
    evidence: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        if not self.end_s >= self.start_s:
            raise ValueError("an occurrence cannot end before it starts")
        _check_figures(self.evidence)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form, as in the ``occurrences`` of `AdviceItem.to_dict`."""
        return {
            "move_index": self.move_index,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "holds": list(self.holds),
            "severity": self.severity,
            "evidence": {name: round(value, 3) for name, value in self.evidence.items()},
        }


@dataclass(frozen=True)
class AdviceItem:
    """One piece of coaching advice, tied to a time range (and a move when there is one).

    An item from `engines.advice.generate_advice` stands for every time its rule fired: its
    ``move_index``, time range and ``evidence`` are those of the worst occurrence (what the message
    quotes), ``limbs`` and ``holds`` gather all of them, and ``occurrences`` lists each.

    Attributes:
        rule_id: the rule that produced it.
        move_index: index of the move concerned in the move list (shown to climbers as
            ``move_index + 1``), or None for advice about a rest or the whole climb.
        start_s: start of the time range the advice is about.
        end_s: its end.
        limbs: limbs concerned (`engines.limbs.Limb` values).
        holds: ids of the holds concerned.
        severity: ``info`` (a tip), ``warning`` (wastes energy or balance), ``critical`` (the
            thing to fix first: it limits the climb badly, or risks a fall or an injury).
        message_key: i18n key, ``advice.<rule_id>``.
        message_en: the English message.
        evidence: the figures behind the advice, by name (units in the name: ``_cm``, ``_s``,
            ``_deg``, ``_bw`` for body weights).
        confidence: 0..1, how directly the figures are measured (a depth guessed from
            foreshortening is less sure than a time on a hold); ranks the advice.
        occurrences: every time the finding was seen, in time order (empty on a rule's raw
            finding, before `engines.advice.generate_advice` merges them).
    """

    rule_id: str
    move_index: int | None
    start_s: float
    end_s: float
    limbs: tuple[str, ...]
    holds: tuple[str, ...]
    severity: Severity
    message_key: str
    message_en: str
    evidence: dict[str, float] = field(default_factory=dict)
    confidence: float = 1.0
    occurrences: tuple[Occurrence, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        if not self.end_s >= self.start_s:
            raise ValueError("advice cannot end before it starts")
        if self.message_key != f"advice.{self.rule_id}":
            raise ValueError("message_key must be 'advice.<rule_id>'")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError("confidence must be within 0..1")
        _check_figures(self.evidence)

    def occurrence(self) -> Occurrence:
        """This item as one occurrence of its finding."""
        return Occurrence(
            self.move_index, self.start_s, self.end_s, self.holds, self.severity, self.evidence
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for the advice document."""
        return {
            "rule_id": self.rule_id,
            "move_index": self.move_index,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "limbs": list(self.limbs),
            "holds": list(self.holds),
            "severity": self.severity,
            "message_key": self.message_key,
            "message_en": self.message_en,
            "evidence": {name: round(value, 3) for name, value in self.evidence.items()},
            "confidence": round(self.confidence, 2),
            "occurrences": [occurrence.to_dict() for occurrence in self.occurrences],
        }


RuleCheck = Callable[["AdviceContext"], list[AdviceItem]]


@dataclass(frozen=True)
class Rule:
    """A registered rule.

    Attributes:
        id: the rule id.
        check: the check.
        summary: the first line of the check's docstring.
        title: a short name of the finding, for the merged message ("Hips far from the wall").
        confidence: 0..1, how directly the rule's measure is observed (see `rule`).
        measure: the evidence figure that says how bad one occurrence is (the worst one is quoted).
        higher_is_worse: whether a larger ``measure`` is worse.
    """

    id: str
    check: RuleCheck
    summary: str
    title: str
    confidence: float
    measure: str
    higher_is_worse: bool = True


#: Every rule, by id, in registration order.
RULES: dict[str, Rule] = {}


def rule(
    rule_id: str,
    *,
    title: str,
    confidence: float,
    measure: str,
    higher_is_worse: bool = True,
) -> Callable[[RuleCheck], RuleCheck]:
    """Register a check under ``rule_id``; its items must carry that id.

    Args:
        rule_id: the id.
        title: short name of the finding ("Feet cutting loose").
        confidence: 0..1, how directly the measure is observed in a phone video: ~0.9 for what
            the camera sees directly (positions on holds, times), less for figures from a model
            (the static forces) or a proxy (depth from foreshortening).
        measure: the evidence figure ranking one occurrence against another.
        higher_is_worse: whether a larger ``measure`` is worse.
    """
    if not 0.0 < confidence <= 1.0:
        raise ValueError("confidence must be within (0, 1]")

    def register(check: RuleCheck) -> RuleCheck:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id!r} is registered twice")
        summary = (check.__doc__ or rule_id).strip().splitlines()[0]
        RULES[rule_id] = Rule(rule_id, check, summary, title, confidence, measure, higher_is_worse)
        return check

    return register
