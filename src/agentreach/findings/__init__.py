"""Findings: rules over a snapshot's inventory, annotations and reach graph, each with a
stable id, a severity, evidence, the reach path where one matters, and the OWASP NHI Top 10
(2025) and NIST CSF 2.0 items it maps to. See :mod:`.base` for the engine and
:mod:`.rules` for the rules."""

from . import rules  # noqa: E402,F401  (registers every rule)
from .base import (
    RULES,
    SEVERITIES,
    Finding,
    FindingContext,
    Rule,
    RuleMeta,
    RuleResult,
    all_findings,
    evaluate,
    findings_config,
    rule,
)

__all__ = ["RULES", "SEVERITIES", "Finding", "FindingContext", "Rule", "RuleMeta", "RuleResult", "all_findings",
           "evaluate", "findings_config", "rule"]
