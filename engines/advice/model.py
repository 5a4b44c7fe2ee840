"""Advice items and the rule registry.

A rule is a small function from an `AdviceContext` to advice items, registered with `@rule`.
Its thresholds are module-level constants next to it, so a coach can read and tune each rule in
one place. Every item carries an i18n key (``advice.<rule_id>``), the English text, and the
figures that triggered it (``evidence``), which translations interpolate too.
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


@dataclass(frozen=True)
class AdviceItem:
    """One piece of coaching advice, tied to a time range (and a move when there is one).

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

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        if not self.end_s >= self.start_s:
            raise ValueError("advice cannot end before it starts")
        if self.message_key != f"advice.{self.rule_id}":
            raise ValueError("message_key must be 'advice.<rule_id>'")
        for name, value in self.evidence.items():
            if not math.isfinite(value):
                raise ValueError(f"evidence {name!r} is not a finite number")

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
        }


RuleCheck = Callable[["AdviceContext"], list[AdviceItem]]


@dataclass(frozen=True)
class Rule:
    """A registered rule: its id, the check, and the first line of the check's docstring."""

    id: str
    check: RuleCheck
    summary: str


#: Every rule, by id, in registration order.
RULES: dict[str, Rule] = {}


def rule(rule_id: str) -> Callable[[RuleCheck], RuleCheck]:
    """Register a check under ``rule_id``; its items must carry that id."""

    def register(check: RuleCheck) -> RuleCheck:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id!r} is registered twice")
        summary = (check.__doc__ or rule_id).strip().splitlines()[0]
        RULES[rule_id] = Rule(rule_id, check, summary)
        return check

    return register
