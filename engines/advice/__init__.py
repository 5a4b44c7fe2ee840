"""Advice engine: deterministic coaching rules over moves and biomechanics."""

from engines.advice.context import AdviceContext
from engines.advice.engine import generate_advice
from engines.advice.model import RULES, SEVERITIES, AdviceItem, Occurrence, Rule, Severity, rule

__all__ = [
    "RULES",
    "SEVERITIES",
    "AdviceContext",
    "AdviceItem",
    "Occurrence",
    "Rule",
    "Severity",
    "generate_advice",
    "rule",
]
