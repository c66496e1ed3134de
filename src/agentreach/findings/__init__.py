"""Findings: rules over a snapshot's inventory, annotations and reach graph, each with a
stable id, a severity, evidence, the reach path where one matters, and the OWASP NHI Top 10
(2025) and NIST CSF 2.0 items it maps to. :mod:`.base` holds what a rule is and reads,
:mod:`.rules` the rules, :mod:`.engine` the config and the evaluation, :mod:`.snapshot`
the findings kept per snapshot."""

from ..order import SEVERITIES
from . import rules  # noqa: F401  (registers every rule)
from .base import RULES, Finding, FindingContext, Rule, RuleMeta, RuleResult, rule
from .engine import all_findings, evaluate, findings_config

__all__ = ["RULES", "SEVERITIES", "Finding", "FindingContext", "Rule", "RuleMeta", "RuleResult", "all_findings",
           "evaluate", "findings_config", "rule"]
