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


def test_a_profile_written_from_grants_approves_exactly_todays_grants(demo_db: str, tmp_path: Any) -> None:
    """``agentreach profile REF --from-grants`` writes a skeleton that, read back by the drift
    rule over the same snapshot, leaves nothing beyond it; narrowing it brings the drift back."""
    from click.testing import CliRunner

    from agentreach.classify import profile_annotations
    from agentreach.cli import main
    from agentreach.findings import FindingContext, evaluate
    from agentreach.review import load_reviewed, with_profile

    reviewed = tmp_path / "reviewed.yaml"
    runner = CliRunner()
    base = ["--db", demo_db, "profile", "research-agent-runtime", "--owner", "research@example.com",
            "--purpose", "web research", "--reviewed", str(reviewed)]
    out = runner.invoke(main, [*base, "--from-grants", "--lifetime", "1h"])
    assert out.exit_code == 0, out.output
    assert "profile written to" in out.output and "narrow it to what the task needs" in out.output
    again = runner.invoke(main, [*base, "--from-grants"])
    assert again.exit_code != 0 and "already has a profile" in again.output and "\n" not in again.output.strip()
    bad = runner.invoke(main, [*base, "--system", "*", "--action", "s3.GetObject", "--replace"])
    assert bad.exit_code != 0 and "is not an AWS action" in bad.output

    def drift_of(file_reviewed: Any) -> list[Any]:
        store = Store(demo_db)
        ctx = FindingContext.from_store(store, store.latest_snapshot().id)
        ctx.profiles = profile_annotations(file_reviewed)
        ctx.capabilities = ctx.capabilities | {"profiles"}
        return [f for r in evaluate(ctx) if r.rule.id == "AR-PROFILE-DRIFT" for f in r.findings]

    written = load_reviewed(reviewed)
    assert drift_of(written) == []
    (entry,) = written.reviewed
    assert entry.profile is not None and "s3:ListBucket" in entry.profile.actions
    narrowed = with_profile(written, entry.id, entry.profile.model_copy(update={
        "actions": [a for a in entry.profile.actions if a != "s3:ListBucket"]}))
    (f,) = drift_of(narrowed)
    assert f.subject_name == "research-agent-runtime" and any("s3:ListBucket" in e for e in f.evidence)


def test_the_reports_show_the_right_sized_grant(demo_db: str) -> None:
    from agentreach import app
    from agentreach.config import load_config

    store = Store(demo_db)
    info = store.latest_snapshot()
    md = app.report(store, info, load_config(None), "md")
    after = md.split("**Right-sized grant for research-agent-runtime**", 1)[1]
    block = after.split("  ```json\n", 1)[1].split("\n  ```", 1)[0]
    doc = json.loads(block)
    assert list(doc) == ["Version", "Statement"] and list(doc["Statement"][0])[:2] == ["Sid", "Effect"]
    html = app.report(store, info, load_config(None), "html")
    # drift: langchain-bot and research-agent-runtime (ops-autopilot-agent's proposes nothing: no approved system
    # is granted); unused grants: ops-autopilot-agent's policy of what CloudTrail shows it did
    assert html.count("Right-sized grant</strong> for") == 3
    assert html.count("(approved profile ∩ granted)</summary>") == 2
    assert "for ops-autopilot-agent (activity (successful calls in the window))</summary>" in html
