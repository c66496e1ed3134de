"""AR-APIKEY-UNRESTRICTED over its own estate: Gemini API keys with no restriction, one of
the two, or both."""

from __future__ import annotations

import pytest

from .builders import Run, api_key, context, fires_and_quiet_test, run

UNRESTRICTED = "AR-APIKEY-UNRESTRICTED"


@pytest.fixture(scope="module")
def api_keys() -> Run:
    """Agent keys: one with no restriction at all, one restricted to the Gemini API but
    usable from anywhere, one restricted to the Gemini API from one server."""
    keys = [api_key("gemini-prototype", [], ["none"]),
            api_key("gemini-notebook", ["generativelanguage.googleapis.com"], ["none"]),
            api_key("gemini-prod", ["generativelanguage.googleapis.com"], ["server"])]
    return run(context(keys, agents=keys))


CASES = [
    (UNRESTRICTED, "api_keys", "gemini-prototype", "gemini-prod"),
    (UNRESTRICTED, "api_keys", "gemini-notebook", "gemini-prod"),
]
test_fires_and_stays_quiet = fires_and_quiet_test(CASES)


def test_an_unrestricted_agent_api_key_is_high(api_keys: Run) -> None:
    f = api_keys.of(UNRESTRICTED)["gemini-prototype"]
    assert f.severity == "high" and any("no API restriction" in e for e in f.evidence)


def test_an_api_restricted_key_usable_anywhere_stays_at_the_base(api_keys: Run) -> None:
    f = api_keys.of(UNRESTRICTED)["gemini-notebook"]
    assert f.severity == "medium" and "no application restriction" in f.evidence[0]
    assert "it may call generativelanguage.googleapis.com" in f.evidence
