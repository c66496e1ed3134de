"""Every registered rule has at least one fires-and-quiet case, in the test module of its
own family (tests/findings/test_<family>.py for agentreach/findings/rules/<family>.py),
over a fixture that module defines; and every rule's metadata maps it to OWASP NHI and
NIST CSF and says why and what to do."""

from __future__ import annotations

import importlib
from collections import defaultdict
from types import ModuleType

import pytest

from agentreach.findings import RULES, rules as rules_pkg

FAMILIES = sorted(rules_pkg.__all__)


def _module(family: str) -> ModuleType:
    return importlib.import_module(f"{__package__}.test_{family}")


def test_every_rule_family_has_its_test_module() -> None:
    families = {r.check.__module__.rsplit(".", 1)[-1] for r in RULES if r.check.__module__.startswith(
        rules_pkg.__name__ + ".")}
    assert families == set(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_family_module_runs_its_cases(family: str) -> None:
    mod = _module(family)
    assert mod.test_fires_and_stays_quiet.cases is mod.CASES and mod.CASES
    mine = {r.id for r in RULES if r.check.__module__ == f"{rules_pkg.__name__}.{family}"}
    assert {c[0] for c in mod.CASES} == mine, f"test_{family}.py: a case for each rule of rules/{family}.py only"
    for rule_id, estate, fires, quiet in mod.CASES:  # the estate fixture is resolved when the case runs
        assert estate and fires != quiet, rule_id


def test_every_rule_has_a_case_and_mapped_metadata() -> None:
    cases: dict[str, int] = defaultdict(int)
    for family in FAMILIES:
        for rule_id, *_ in _module(family).CASES:
            cases[rule_id] += 1
    assert set(cases) == {r.id for r in RULES}
    for r in RULES:
        assert r.meta.owasp_nhi.startswith("NHI") and ":2025 " in r.meta.owasp_nhi
        assert r.meta.nist_csf and r.meta.rationale and r.meta.remediation
