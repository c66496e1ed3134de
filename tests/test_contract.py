"""The machine-readable output is a public contract (DESIGN.md): every field it names is
there, with its documented type and vocabulary, for every object type of a three-cloud
scan; a field is never renamed. Each assertion here names the contract's words."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from agentreach.cli import main

VERDICTS = {"agent", "possible", "none"}
OWNER_STATUSES = {"owned", "orphaned", "ownerless", "unknown"}
SEVERITIES = {"critical", "high", "medium", "low", "info"}
ACCESS = {"list", "read", "tagging", "write", "permissions-management"}
STATUSES = {"active", "disabled", "expired"}


def cli_json(db: str, *args: str) -> Any:
    res = CliRunner().invoke(main, ["--db", db, *args, "--format", "json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def iso_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.endswith("Z") and "T" in value)


@pytest.fixture(scope="module")
def objects(demo_db: str) -> list[dict[str, Any]]:
    return cli_json(demo_db, "inventory")["objects"]


def test_every_identity_and_credential_carries_the_contract(objects: list[dict[str, Any]]) -> None:
    types = {(o["kind"], o["type"]) for o in objects}
    assert {k for k, _ in types} == {"identity", "credential"}
    assert {o["provider"] for o in objects} >= {"aws", "azure", "gcp", "files"}
    assert len(types) >= 20  # users, roles, keys, SPs, managed identities, secrets, SA keys, file secrets ...
    for o in objects:
        where = f"{o['type']} {o['id']}"
        for key in ("id", "kind", "provider", "name", "native_id", "created", "last_used", "expires", "status",
                    "agent", "owner", "stale"):
            assert key in o, f"{where}: no {key}"
        assert isinstance(o["id"], str) and o["id"] and isinstance(o["name"], str), where
        assert o["native_id"] is None or isinstance(o["native_id"], str), where
        for key in ("created", "last_used", "expires"):
            assert iso_or_none(o[key]), f"{where}: {key}={o[key]!r}"
        assert o["status"] in STATUSES, where
        agent = o["agent"]
        assert agent["verdict"] in VERDICTS and isinstance(agent["score"], (int, float)), where
        assert isinstance(agent["evidence"], list), where
        if agent["verdict"] != "none":
            assert agent["evidence"], f"{where}: a verdict without evidence"
        owner = o["owner"]
        assert owner["status"] in OWNER_STATUSES and (owner["name"] is None or isinstance(owner["name"], str)), where
        assert isinstance(owner["evidence"], list) and owner["evidence"], f"{where}: an owner verdict says why"
        if owner["status"] == "ownerless":
            assert owner["name"] is None, where
        stale = o["stale"]
        assert isinstance(stale["value"], bool) and isinstance(stale["reasons"], list), where
        if stale["value"]:
            assert stale["reasons"], f"{where}: stale without a reason"


def test_a_credential_found_in_files_carries_locations_detector_and_preview(objects: list[dict[str, Any]]) -> None:
    found = [o for o in objects if o["provider"] == "files"]
    assert found
    for o in found:
        assert o["locations"], o["id"]
        for loc in o["locations"]:
            assert isinstance(loc["path"], str) and loc["path"] and not loc["path"].startswith("/"), loc
            assert ".." not in loc["path"].split("/"), loc
            assert loc["line"] is None or (isinstance(loc["line"], int) and loc["line"] >= 1), loc
        assert isinstance(o["detector"], str) and o["detector"], o["id"]
        assert isinstance(o["preview"], str) and o["preview"], o["id"]
    # a cloud key written in a file says where, too (the responder's first question)
    live = [o for o in objects if o["provider"] == "aws" and o.get("locations")]
    assert live and live[0]["locations"][0]["path"].endswith(".env")


def test_show_gives_the_same_object(demo_db: str, objects: list[dict[str, Any]]) -> None:
    sample = {o["type"]: o for o in objects}
    for o in sample.values():
        shown = cli_json(demo_db, "show", o["id"])["object"]
        assert {k: shown[k] for k in o if k not in ("reach",)} == {k: o[k] for k in o if k not in ("reach",)}


def test_every_finding_carries_the_contract(demo_db: str) -> None:
    findings = cli_json(demo_db, "findings")["findings"]
    assert len(findings) >= 20 and len({f["rule"] for f in findings}) >= 8
    fingerprints = set()
    for f in findings:
        for key in ("rule", "severity", "title", "subject", "evidence", "path", "frameworks", "fingerprint"):
            assert key in f, f"{f.get('rule')}: no {key}"
        assert f["severity"] in SEVERITIES and f["evidence"] and all(isinstance(e, str) for e in f["evidence"])
        assert all(fw.startswith(("OWASP-NHI:", "NIST-CSF:")) for fw in f["frameworks"]) and f["frameworks"]
        assert isinstance(f["fingerprint"], str) and len(f["fingerprint"]) >= 32
        fingerprints.add(f["fingerprint"])
        for hop in f["path"]:
            for key in ("from", "to", "edge", "grant"):
                assert key in hop, f"{f['rule']}: a hop without {key}"
        assert f["agent"]["verdict"] in VERDICTS and isinstance(f["agent"]["score"], (int, float))
        assert f["owner"]["status"] in OWNER_STATUSES
    assert len(fingerprints) == len(findings)
    reach = [f for f in findings if f["rule"] == "AR-AGENT-SENSITIVE-REACH"]
    assert reach and all(f["path"] for f in reach), "reach findings carry their path"
    live = [f for f in findings if f["rule"] == "AR-SECRET-LEAKED-LIVE"]
    assert live and all(f["path"] and f["path"][0]["edge"] == "authenticates" for f in live), \
        "a leaked live key shows what it unlocks"


def test_reach_output_carries_the_contract(demo_db: str) -> None:
    body = cli_json(demo_db, "reach", "support-agent-exec")
    assert body["systems"]
    for s in body["systems"]:
        for key in ("system", "access", "conditional", "path"):
            assert key in s, key
        assert s["access"] in ACCESS and isinstance(s["conditional"], bool) and s["path"]
        for hop in s["path"]:
            assert {"from", "to", "edge", "grant"} <= set(hop)
            assert hop["edge"] in {"authenticates", "runs_as", "can_assume", "can_access"}
        assert s["path"][-1]["edge"] == "can_access" and s["path"][-1]["grant"]
    who = cli_json(demo_db, "who-can-reach", "customer_data")
    assert who["subjects"] and all(s["path"] and s["access"] in ACCESS for s in who["subjects"])


AWS_WORDS = ("sts:", "IAM Access Analyzer", "aws iam", "permissions boundary", "aws:Source", "CloudTrail", "access key")


def test_remediation_speaks_the_subject_s_cloud(demo_db: str) -> None:
    findings = cli_json(demo_db, "findings")["findings"]
    by_cloud: dict[str, list[str]] = {}
    for f in findings:
        by_cloud.setdefault(f["subject"].split(":", 1)[0], []).append(f["remediation"])
    assert {"aws", "azure", "gcp"} <= set(by_cloud)
    for cloud in ("azure", "gcp"):
        for text in by_cloud[cloud]:
            assert not any(w in text for w in AWS_WORDS), (cloud, text)
    assert any("managed identity" in t or "service principal" in t or "Graph" in t for t in by_cloud["azure"])
    assert any("service account" in t for t in by_cloud["gcp"])
