"""The demo's approved access profiles (testing/demo/profiles.py) as a user sees them: the
demo prints a drift finding with its right-sized IAM policy and a lapsed review; the drift
findings carry the policy in their JSON; agents without a profile are listed low."""

from __future__ import annotations

import json
from typing import Any

from agentreach.store import Store


def _findings(db: str) -> list[dict[str, Any]]:
    store = Store(db)
    kept = store.stored_findings(store.latest_snapshot().id)
    assert kept is not None
    return kept[0]


def test_the_demo_prints_the_drift_and_its_right_sized_policy(demo_run: Any) -> None:
    out = demo_run.stdout
    assert "is granted beyond its approved access profile" in out
    assert "right-sized policy for" in out and '"Version": "2012-10-17"' in out
    assert "profile review overdue: support-agent-svc" in out


def test_the_demo_drift_findings(demo_db: str) -> None:
    found = _findings(demo_db)
    drift = {f["subject_name"]: f for f in found if f["rule"] == "AR-PROFILE-DRIFT"}
    assert set(drift) == {"research-agent-runtime", "langchain-bot", "ops-autopilot-agent"}
    research = drift["research-agent-runtime"]
    assert any("acme-customer-pii" in e and "not an approved system" in e for e in research["evidence"])
    policy = research["right_sized"]["grants"][0]["policy"]
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert "s3:ListBucket" not in actions and "bedrock:InvokeModel" in actions
    assert not any("acme-customer-pii" in json.dumps(s["Resource"]) for s in policy["Statement"])
    assert {f["subject_name"] for f in found if f["rule"] == "AR-PROFILE-REVIEW-OVERDUE"} == {"support-agent-svc"}
    retired = [f for f in found if f["rule"] == "AR-CREDENTIAL-PAST-RETIREMENT"]
    assert len(retired) == 2 and all("langchain-bot" in " ".join(f["evidence"]) for f in retired)
    no_profile = [f for f in found if f["rule"] == "AR-AGENT-NO-PROFILE"]
    assert no_profile and all(f["severity"] == "low" for f in no_profile)
    assert not {f["subject_name"] for f in no_profile} & (set(drift) | {"support-agent-svc"})
