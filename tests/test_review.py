"""The reviewed-agents file and `agentreach triage`: the format (load, save, one-line errors
naming the file, the entry, the key and its line), and the whole loop on a real scan: a
credential the classifier leaves `possible` is listed for review and blocks the gate, a
person triages it, the next scan's verdict and the gate follow."""

from __future__ import annotations

import datetime as dt
import json
import random
import string
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from agentreach import exitcodes
from agentreach.cli import main
from agentreach.config import ConfigError
from agentreach.gate import UNTRIAGED_RULE, Baseline, GatePolicy, decide, untriaged_possible
from agentreach.review import Reviewed, load_reviewed, reviewed_path, save_reviewed, with_decision, with_profile

R = random.Random(15)
GROQ = "gsk_" + "".join(R.choice(string.ascii_letters + string.digits) for _ in range(52))
T = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.timezone.utc)


def test_a_decision_round_trips_and_a_new_one_replaces_the_old(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    reviewed = with_decision(Reviewed(), "aws:access_key:AKIA1", decision="agent", reason="the bot's key", by="a@x",
                             at=T, name="AKIA1", native_id="AKIA1", owner="platform")
    reviewed = with_decision(reviewed, "aws:iam_role:r", decision="not-agent", reason="ETL", by="b@x", at=T)
    reviewed = with_decision(reviewed, "aws:access_key:AKIA1", decision="not-agent", reason="rotated to a person",
                             by="c@x", at=T)
    save_reviewed(path, reviewed)
    text = path.read_text()
    assert text.startswith("# agentreach reviewed agents") and "decision: not-agent" in text
    back = load_reviewed(path)
    assert [e.id for e in back.reviewed] == ["aws:access_key:AKIA1", "aws:iam_role:r"]
    key = back.entry("aws:access_key:AKIA1")
    assert key is not None and key.triage is not None
    assert (key.triage.decision, key.triage.by, key.triage.at, key.name) == ("not-agent", "c@x", T, "AKIA1")
    assert load_reviewed(tmp_path / "missing.yaml") == Reviewed()


@pytest.mark.parametrize("body, error", [
    ("version: 2\nreviewed: []\n", r"r.yaml: version: .* \(line 1\)"),
    ("version: 1\nreviewed:\n  - id: a\n    triage: {decision: maybe, reason: x, by: y, at: 2026-01-01T00:00:00Z}\n",
     r"r.yaml: entry 1 \(a\): triage.decision: .*'agent' or 'not-agent' \(line 4\)"),
    ("version: 1\nreviewed:\n  - id: a\n    triage: {decision: agent, by: y, at: 2026-01-01T00:00:00Z}\n",
     r"entry 1 \(a\): triage.reason: required"),
    ("version: 1\nreviewed:\n  - id: a\n    triage: {decision: agent, reason: x, by: y, at: 2026-01-01}\n"
     "    colour: red\n", r"entry 1 \(a\): colour: unknown key \(line 5\)"),
    ("version: 1\nreviewed:\n  - {id: a}\n", r"entry 1 \(a\): an entry needs a triage decision"),
    ("version: 1\nreviewed:\n  - id: a\n    triage: {decision: agent, reason: x, by: y, at: 2026-01-01T00:00:00Z}\n"
     "  - id: a\n    triage: {decision: agent, reason: x, by: y, at: 2026-01-01T00:00:00Z}\n", "reviewed twice"),
    ("[1, 2]\n", "expected a mapping"),
    ("version: 1\nreviewed: [\n", "not valid YAML"),
])
def test_a_malformed_file_is_one_line_naming_file_entry_key_and_line(tmp_path: Path, body: str, error: str) -> None:
    (tmp_path / "r.yaml").write_text(body)
    with pytest.raises(ConfigError, match=error) as exc:
        load_reviewed(tmp_path / "r.yaml")
    assert "\n" not in str(exc.value)


PROFILE_HEAD = "version: 1\nreviewed:\n  - id: aws:iam_role:arn:aws:iam::111122223333:role/bot\n    profile:\n"
PROFILE_OK = ("      owner: ml@example.com\n      purpose: answers tickets\n      systems: ['*']\n"
              "      actions: [s3:GetObject]\n      review_by: 2026-09-01\n")


@pytest.mark.parametrize("body, error", [
    (PROFILE_HEAD + PROFILE_OK.replace("      owner: ml@example.com\n", ""),
     r"entry 1 \(aws:iam_role:.*/bot\): profile.owner: required \(line 4\)"),
    (PROFILE_HEAD + PROFILE_OK.replace("[s3:GetObject]", "\n        - s3:GetObject\n        - s3.PutObject"),
     r"entry 1 \(.*/bot\): profile.actions.1: 's3.PutObject' is not an AWS action \(service:Action.*\) \(line 10\)"),
    (PROFILE_HEAD + PROFILE_OK + "      credential_lifetime: 90 days\n",
     r"profile.credential_lifetime: '90 days' is not a lifetime .* \(line 10\)"),
    (PROFILE_HEAD + PROFILE_OK.replace("2026-09-01", "next spring"), r"profile.review_by: .*\(line 9\)"),
    (PROFILE_HEAD + PROFILE_OK.replace("[s3:GetObject]", "[]"), r"profile.actions: .*at least 1 item"),
    (PROFILE_HEAD + PROFILE_OK + "      approver: bob\n", r"profile.approver: unknown key \(line 10\)"),
    # a GCP permission in an Azure entry names the cloud it expected
    ("version: 1\nreviewed:\n  - id: azure:managed_identity:x\n    profile:\n"
     + PROFILE_OK.replace("[s3:GetObject]", "[storage:objects:get]"), r"is not an Azure operation"),
])
def test_a_malformed_profile_is_one_line_naming_entry_key_and_line(tmp_path: Path, body: str, error: str) -> None:
    (tmp_path / "r.yaml").write_text(body)
    with pytest.raises(ConfigError, match=error) as exc:
        load_reviewed(tmp_path / "r.yaml")
    assert "\n" not in str(exc.value)


def test_a_profile_round_trips_beside_a_triage_decision(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    (path).write_text(PROFILE_HEAD + PROFILE_OK + "      credential_lifetime: 90D\n")
    reviewed = load_reviewed(path)
    nid = "aws:iam_role:arn:aws:iam::111122223333:role/bot"
    profile = reviewed.entry(nid).profile  # type: ignore[union-attr]
    assert profile is not None and profile.lifetime == dt.timedelta(days=90) and profile.review_by == dt.date(2026, 9, 1)
    # a later triage keeps the profile; a later profile keeps the triage
    reviewed = with_decision(reviewed, nid, decision="agent", reason="the bot", by="a@x", at=T)
    save_reviewed(path, reviewed)
    back = load_reviewed(path).entry(nid)
    assert back is not None and back.profile == profile and back.triage is not None
    assert "credential_lifetime: 90d" in path.read_text()
    again = with_profile(load_reviewed(path), nid, profile.model_copy(update={"review_by": dt.date(2027, 1, 1)}))
    entry = again.entry(nid)
    assert entry is not None and entry.triage == back.triage and entry.profile.review_by == dt.date(2027, 1, 1)  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match=r"profile of gcp:service_account:x: profile.actions.0: 's3:GetObject' "
                                         r"is not a GCP permission"):
        with_profile(again, "gcp:service_account:x", profile)


def test_where_the_file_is() -> None:
    assert reviewed_path({}) == Path(".agentreach-reviewed.yaml")
    assert reviewed_path({"review": {"file": "sec/agents.yaml"}}) == Path("sec/agents.yaml")
    assert reviewed_path({"review": {"file": "sec/agents.yaml"}}, "other.yaml") == Path("other.yaml")


def test_the_gate_blocks_untriaged_possible_credentials_only_when_asked() -> None:
    verdicts = {"c1": {"verdict": "possible", "score": 0.5}, "c2": {"verdict": "agent"}, "c3": {"verdict": "none"}}
    items = untriaged_possible(verdicts, {"c1": "key one", "c2": "key two", "c3": "key three"})
    assert [i["subject"] for i in items] == ["c1"] and items[0]["rule"] == UNTRIAGED_RULE
    kwargs = dict(snapshot_status="complete", gap_count=0, today=T.date(), untriaged=items)
    off = decide([], Baseline(), GatePolicy(block_severities=frozenset()), **kwargs)
    on = decide([], Baseline(), GatePolicy(block_severities=frozenset(), block_untriaged_possible=True), **kwargs)
    known = decide([], Baseline(findings={items[0]["fingerprint"]: {}}),
                   GatePolicy(block_severities=frozenset(), block_untriaged_possible=True), **kwargs)
    assert (off.status, on.status, known.status) == ("pass", "blocked", "pass")


# -- the loop on a real scan ------------------------------------------------------------------------

def run(*args: str, code: int = 0) -> str:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert res.exit_code == code, res.output
    return res.output


def test_triage_a_possible_credential_then_the_verdict_and_the_gate_follow(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "settings.txt").write_text(f"groq = {GROQ}\n")  # an AI provider's key, no agent code near it
    reviewed = tmp_path / "reviewed.yaml"
    cfg = tmp_path / "agentreach.yaml"
    cfg.write_text(yaml.safe_dump({"review": {"file": str(reviewed)},
                                   "gate": {"block_rules": [], "block_severities": [],
                                            "block_untriaged_possible": True}}))
    db, baseline = str(tmp_path / "inv.db"), str(tmp_path / "baseline.json")
    common = ["--db", db, "--config", str(cfg)]
    monkeypatch.setenv("AGENTREACH_REVIEWER", "alice@example.com")

    run(*common, "-q", "scan", "--only", "files", "--path", str(repo))
    listed = json.loads(run(*common, "inventory", "--review", "--format", "json"))["objects"]
    assert [o["name"] for o in listed] and all(o["agent"]["verdict"] == "possible" for o in listed)
    cred = listed[0]
    assert "to triage" in run(*common, "inventory", "--review")
    gate = json.loads(run(*common, "gate", "--baseline", baseline, "--format", "json", code=exitcodes.GATE_BLOCKED))
    assert [b["rule"] for b in gate["blocking"]] == [UNTRIAGED_RULE] and gate["blocking"][0]["subject"] == cred["id"]

    out = run(*common, "triage", "settings.txt:1", "--agent", "--reason", "the triage bot's Groq key (SEC-7)",
              "--owner", "support-platform")
    assert "triaged agent (was possible)" in out and GROQ not in out
    entry = load_reviewed(reviewed).entry(cred["id"])
    assert entry is not None and entry.triage is not None and entry.triage.by == "alice@example.com"
    assert GROQ not in reviewed.read_text()

    run(*common, "-q", "scan", "--only", "files", "--path", str(repo))
    agent = json.loads(run(*common, "explain", cred["id"], "--format", "json"))["agent"]
    assert agent["verdict"] == "agent"
    assert agent["evidence"][0]["signal"] == "review.triage"
    text = run(*common, "explain", cred["id"])
    assert "triaged agent by alice@example.com" in text and "sets the verdict" in text
    assert json.loads(run(*common, "inventory", "--review", "--format", "json"))["objects"] == []
    assert json.loads(run(*common, "gate", "--baseline", baseline, "--format", "json"))["status"] == "pass"

    run(*common, "triage", cred["id"], "--not-agent", "--reason", "a developer's own key")
    run(*common, "-q", "classify")
    assert json.loads(run(*common, "explain", cred["id"], "--format", "json"))["agent"]["verdict"] == "none"


def test_triage_refuses_what_has_no_verdict_and_needs_a_decision(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "settings.txt").write_text(f"groq = {GROQ}\n")
    db = str(tmp_path / "inv.db")
    run("--db", db, "-q", "scan", "--only", "files", "--path", str(repo))
    assert "--agent or --not-agent" in run("--db", db, "triage", "settings.txt:1", "--reason", "x",
                                           code=exitcodes.USAGE)
    out = run("--db", db, "triage", "settings.txt:1", "--agent", "--reason", "x", "--reviewed",
              str(tmp_path / "nope" / "r.yaml"), code=exitcodes.USAGE)
    assert "reviewed file" in out


def test_a_broken_reviewed_file_fails_the_scan_before_it_starts(tmp_path: Path) -> None:
    bad = tmp_path / "r.yaml"
    bad.write_text("version: 1\nreviewed:\n  - {id: a}\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"review": {"file": str(bad)}}))
    repo = tmp_path / "repo"
    repo.mkdir()
    out = run("--db", str(tmp_path / "i.db"), "--config", str(cfg), "scan", "--only", "files", "--path", str(repo),
              code=exitcodes.USAGE)
    assert "reviewed file" in out and "entry 1 (a)" in out
