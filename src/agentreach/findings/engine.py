"""Evaluating the rules: the findings section of the config (shipped over by the user's,
every rule's parameters checked against what it declares), and running every registered
rule (the built-in ones and any a plugin's module registers) over a snapshot's context."""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any, Iterable, Iterator, Mapping

from pydantic import ValidationError

from ..config import ConfigError, overlay, shipped_data
from ..order import SEVERITIES, severity_rank
from ..registry import registry
from .base import RULES, Finding, FindingContext, Rule, RuleResult

# -- config --------------------------------------------------------------------------------

def shipped_config() -> dict[str, Any]:
    data = shipped_data("findings.yaml") or {}
    return dict(data.get("findings") or {})


def findings_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """config/findings.yaml's ``findings`` section with the user's ``findings:`` over it,
    every rule id and parameter checked. ``config`` is a whole config, a bare section or None."""
    merged = overlay("findings", shipped_config(), config)
    _validate(merged)
    return merged


def _validate(cfg: Mapping[str, Any]) -> None:
    _load_rules()
    ids = {r.id for r in RULES}
    disabled = cfg.get("disabled", [])
    if not isinstance(disabled, list):
        raise ConfigError("findings.disabled: must be a list of rule ids")
    severity, params = cfg.get("severity", {}), cfg.get("rules", {})
    for key, value in (("severity", severity), ("rules", params)):
        if not isinstance(value, Mapping):
            raise ConfigError(f"findings.{key}: must map a rule id to a value")
    for key, named in (("disabled", disabled), ("severity", severity), ("rules", params)):
        bad = sorted({str(i) for i in named} - ids)
        if bad:
            raise ConfigError(f"findings.{key}.{bad[0]}: unknown rule id(s) {', '.join(bad)} "
                              f"(known: {', '.join(sorted(ids))})")
    for rid, sev in severity.items():
        if sev not in SEVERITIES:
            raise ConfigError(f"findings.severity.{rid}: {sev!r} is not one of {', '.join(SEVERITIES)}")
    for rid, p in params.items():
        if not isinstance(p, Mapping):
            raise ConfigError(f"findings.rules.{rid}: must be a mapping of thresholds")
    for r in RULES:
        rule_params(r, params.get(r.id) or {})


def rule_params(r: Rule, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` checked against the rule's declared parameters; a one-line error names the
    first bad key (unknown, missing, wrong type, outside its vocabulary)."""
    try:
        return r.meta.params.model_validate(dict(values)).model_dump()
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err.get("loc") or ())
        what = "unknown key" if err.get("type") == "extra_forbidden" else err.get("msg", "invalid")
        raise ConfigError(f"findings.rules.{r.id}{'.' + where if where else ''}: {what}") from None


def _load_rules() -> None:
    """Import the built-in rules and every plugin's rule modules (importing registers them)."""
    importlib.import_module("agentreach.findings.rules")
    for module in registry().rule_modules():
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"findings rules module {module}: cannot import ({exc})") from None


# -- evaluation ----------------------------------------------------------------------------

def evaluate(ctx: FindingContext, config: Mapping[str, Any] | None = None) -> list[RuleResult]:
    """Every registered rule over ``ctx``: findings, or why the rule was skipped."""
    cfg = findings_config(config)
    disabled = {str(i) for i in cfg.get("disabled") or ()}
    overrides = cfg.get("severity") or {}
    params_all = cfg.get("rules") or {}
    results: list[RuleResult] = []
    for r in sorted(RULES, key=lambda r: r.id):
        meta = r.meta
        if r.id in overrides:
            meta = dataclasses.replace(meta, severity=str(overrides[r.id]))
        if r.id in disabled:
            results.append(RuleResult(meta, "skipped", "disabled by config (findings.disabled)", ()))
            continue
        missing = [c for c in meta.requires if c not in ctx.capabilities]
        if missing:
            results.append(RuleResult(meta, "skipped", _missing_note(missing), ()))
            continue
        found = list(_dedupe(r.check(ctx, meta, rule_params(r, params_all.get(r.id) or {}))))
        found.sort(key=lambda f: (-severity_rank(f.severity), f.subject_name, f.subject))
        results.append(RuleResult(meta, "evaluated", f"{len(found)} finding(s)", tuple(found)))
    return results


def _missing_note(missing: list[str]) -> str:
    what = {"files": "the files connector (secrets found in files)", "telemetry": "usage telemetry",
            "profiles": "approved access profiles (a profile: block in the reviewed file)",
            "activity": "activity (what credentials were seen doing)"}
    return ("not evaluated: this scan lacks " + ", ".join(what.get(m, m) for m in missing)
            + "; run a scan that includes it")


def _dedupe(found: Iterable[Finding]) -> Iterator[Finding]:
    seen: set[str] = set()
    for f in found:
        if f.fingerprint not in seen:
            seen.add(f.fingerprint)
            yield f


def all_findings(results: Iterable[RuleResult]) -> list[Finding]:
    out = [f for r in results for f in r.findings]
    out.sort(key=lambda f: (-severity_rank(f.severity), f.rule, f.subject_name, f.subject))
    return out
