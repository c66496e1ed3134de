"""AR-FEDERATION-UNCONSTRAINED over its own estate: federated trust in GitHub Actions with
and without a condition on the token's subject, on an AWS role and a GCP provider."""

from __future__ import annotations

import pytest

from .builders import GHA, Run, context, fires_and_quiet_test, role, run, trust_github, wif_provider

FEDERATION = "AR-FEDERATION-UNCONSTRAINED"


@pytest.fixture(scope="module")
def federation() -> Run:
    """Roles trusting GitHub Actions with only an audience condition, and scoped to one
    repository; GCP providers with no attribute condition, and scoped to one owner."""
    any_repo = role("gha-any-repo", trust_github({"StringEquals": {f"{GHA}:aud": "sts.amazonaws.com"}}))
    scoped = role("gha-scoped", trust_github({"StringLike": {f"{GHA}:sub": "repo:acme/agents:*"}}))
    return run(context([any_repo, scoped, wif_provider("github-pool/open", ""),
                        wif_provider("github-pool/scoped", "assertion.repository_owner=='acme'")]))


CASES = [
    (FEDERATION, "federation", "gha-any-repo", "gha-scoped"),
    (FEDERATION, "federation", "github-pool/open", "github-pool/scoped"),
]
test_fires_and_stays_quiet = fires_and_quiet_test(CASES)


def test_federation_without_a_subject_condition(federation: Run) -> None:
    fed = federation.of(FEDERATION)
    assert "no attribute condition" in " ".join(fed["github-pool/open"].evidence)
    aws = fed["gha-any-repo"]
    assert aws.severity == "medium" and any(f"no {GHA}:sub" in e for e in aws.evidence)
