"""The agent classifier: per-case verdicts on the labelled estate, evidence, propagation,
the keyword rules, user signal files, and the CLI that shows it all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agentreach.classify import SnapshotView, Thresholds, classify, load_signals
from agentreach.cli import main
from agentreach.config import ConfigError

from .labelled_estate import CASES, build

# Cases a careful reader would also call undecided: a function holding an AI key, and no
# more than that, may be an agent or a plain model call. They must not be lost (`possible`
# at least; `agent` where their description corroborates it).
HARD = {"support-triage-fn-role", "summariser-fn-role"}


@pytest.fixture(scope="module")
def result() -> tuple[dict[str, Any], dict[str, Any]]:
    nodes, edges, labelled = build()
    view = SnapshotView.build(nodes, [e.to_dict() for e in edges])
    return classify(view, load_signals(), Thresholds()), labelled


def test_the_labelled_estate_is_big_enough() -> None:
    assert len(CASES) >= 60
    assert sum(c.trap for c in CASES) >= 20


@pytest.mark.parametrize("case", [c for c in CASES], ids=lambda c: c.name[:60])
def test_each_labelled_case(case: Any, result: Any) -> None:
    verdicts, labelled = result
    nid = next(n for n, c in labelled.items() if c is case)
    v = verdicts[nid]
    if case.label == "agent" and case.name in HARD:
        assert v.verdict in ("possible", "agent"), (v.verdict, v.score)
    elif case.label == "agent":
        assert v.verdict == "agent", (v.verdict, v.score, [e.signal for e in v.evidence])
    else:
        assert v.verdict != "agent", (v.verdict, v.score, [e.signal for e in v.evidence])
    if v.verdict != "none":
        assert v.evidence and all(e.signal and e.why and e.matched and e.field and e.object for e in v.evidence)


def test_propagation_names_the_edge_that_carried_it(result: Any) -> None:
    verdicts, labelled = result
    by_name = {c.name: nid for nid, c in labelled.items()}
    key = verdicts[by_name["AKIAAGENTKEY00000001"]]
    assert key.verdict == "agent" and key.role == "agent_credential"
    assert [(e.signal, e.via, e.object_name) for e in key.evidence] == [
        ("propagated.credential-of-agent", "authenticates", "support-agent-svc")]
    reachable = verdicts[by_name["data-access-for-agents"]]
    assert reachable.verdict == "agent" and reachable.role == "agent_reachable"
    chain = [e for e in reachable.evidence if e.signal == "propagated.assumed-only-by-agents"]
    assert chain and "research-runtime (agent" in chain[0].matched and chain[0].via.startswith("can_assume")
    tool = verdicts[by_name["crm-lookup-fn-role"]]
    assert tool.role == "agent_tool"
    assert [e.via for e in tool.evidence if e.signal == "aws.tool.invoked-by-agent"] == ["runs_as"]


def test_a_trusted_service_alone_is_not_enough_for_model_jobs(result: Any) -> None:
    verdicts, labelled = result
    by_name = {c.name: nid for nid, c in labelled.items()}
    batch = verdicts[by_name["bedrock-batch-inference"]]
    assert batch.verdict == "none"
    assert "aws.trust.bedrock-model-job" in {e.signal for e in batch.evidence}


def test_words_alone_never_make_an_agent(tmp_path: Path) -> None:
    """Even a user who weighs name and tag signals at 0.99 gets `possible` at most."""
    heavy = tmp_path / "heavy.yaml"
    heavy.write_text("signals:\n"
                     "  - {id: any.name.ai-words, weight: 0.99}\n"
                     "  - {id: any.tag.ai-purpose, weight: 0.99}\n")
    nodes, edges, labelled = build()
    view = SnapshotView.build(nodes, [e.to_dict() for e in edges])
    verdicts = classify(view, load_signals(heavy), Thresholds())
    for nid, case in labelled.items():
        v = verdicts[nid]
        if v.verdict == "agent":
            assert any(e.strength in ("strong", "medium") and e.weight > 0 for e in v.evidence), case.name
    by_name = {c.name: nid for nid, c in labelled.items()}
    assert verdicts[by_name["mcp-exam-portal"]].verdict == "possible"  # a name, however heavy


def test_bad_signals_are_one_line_errors_naming_the_signal(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("signals:\n  - {id: my.signal, kind: fieldd, weight: 0.5}\n")
    with pytest.raises(ConfigError, match=r"signal 'my.signal' \(.*bad.yaml\): unknown kind 'fieldd'"):
        load_signals(bad)
    bad.write_text("signals:\n  - {id: my.signal, kind: field, field: name, pattern: '(unclosed', weight: 0.5}\n")
    with pytest.raises(ConfigError, match="pattern: not a valid regular expression"):
        load_signals(bad)
    bad.write_text("signals:\n  - {id: my.signal, kind: field, field: name, pattern: x, weight: 2}\n")
    with pytest.raises(ConfigError, match="weight must be between -1 and 1"):
        load_signals(bad)


def test_inventory_agents_carries_verdicts_and_evidence(db: str) -> None:
    out = CliRunner().invoke(main, ["--db", db, "inventory", "--agents", "--format", "json"])
    objects = json.loads(out.stdout)["objects"]
    verdicts = {o["name"]: o["agent"] for o in objects}
    assert verdicts["support-agent-exec"]["verdict"] == "agent"
    assert verdicts["research-agent-runtime"]["verdict"] == "agent"
    assert verdicts["agent-tools-lambda"]["role"] == "agent_tool"
    assert "alice" not in verdicts and "ci-deploy" not in verdicts and "glue-etl" not in verdicts
    for obj in objects:
        assert obj["agent"]["verdict"] in ("agent", "possible") and obj["agent"]["evidence"], obj["name"]
        for ev in obj["agent"]["evidence"]:
            assert {"signal", "weight", "why", "matched", "field", "object"} <= set(ev)


def test_explain_shows_every_signal_for_and_against(db: str) -> None:
    out = CliRunner().invoke(main, ["--db", db, "explain", "alice"])
    assert out.exit_code == 0
    assert "verdict: none" in out.stdout and "against it:" in out.stdout and "any.human-console" in out.stdout
    assert "total log-odds" in out.stdout
    js = json.loads(CliRunner().invoke(main, ["--db", db, "explain", "support-agent-exec", "--format", "json"]).stdout)
    assert js["agent"]["verdict"] == "agent"
    assert js["agent"]["evidence"][0]["signal"] == "aws.linked.bedrock-agent"
    shown = CliRunner().invoke(main, ["--db", db, "show", "support-agent-exec"]).stdout
    assert "agent" in shown and "aws.linked.bedrock-agent" in shown


def test_a_user_signal_file_changes_a_verdict(db: str, tmp_path: Path) -> None:
    """A team marks its deploy bot as an agent with a signal of its own, and switches a
    shipped one off, without touching code."""
    mine = tmp_path / "signals.yaml"
    mine.write_text(
        "signals:\n"
        "  - id: acme.deploy-agent\n"
        "    provider: aws\n"
        "    kind: tag\n"
        "    key: '^Team$'\n"
        "    value: '^platform$'\n"
        "    weight: 0.9\n"
        "    strength: medium\n"
        "    why: our platform team's users are run by the deploy agent\n"
        "  - id: any.human-console\n"
        "    enabled: false\n")

    def verdict(name: str) -> dict[str, Any]:
        return json.loads(CliRunner().invoke(main, ["--db", db, "explain", name, "--format", "json"]).stdout)["agent"]

    assert verdict("ci-deploy")["verdict"] == "none"
    assert verdict("alice")["verdict"] == "none"
    res = CliRunner().invoke(main, ["--db", db, "classify", "--signals", str(mine)])
    assert res.exit_code == 0 and "agent" in res.stdout
    after = verdict("ci-deploy")
    assert after["verdict"] == "agent" and after["evidence"][0]["signal"] == "acme.deploy-agent"
    assert verdict("alice")["verdict"] != "none"  # no human signal now: her model grants count
    CliRunner().invoke(main, ["--db", db, "classify"])  # back to the shipped signals
    assert verdict("ci-deploy")["verdict"] == "none"
