"""OCSF output (``--format ocsf``): one Detection Finding (class_uid 2004) per finding, as Prowler's
json-ocsf writes them, validated against the JSON Schema of the class that the OCSF project's own
tools produce (tests/data/ocsf/detection_finding-1.8.0.schema.json; how it was made and from
which commits: tests/data/ocsf/SOURCE.md and tests/data/ocsf/generate.py)."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from agentreach import __version__
from agentreach.cli import main
from agentreach.report import formats, render

from .test_report import BUCKET, KEY, fixture_report
from .test_sarif_github import PLANTED, VALUES, _plant

SCHEMA_PATH = pathlib.Path(__file__).parent / "data" / "ocsf" / "detection_finding-1.8.0.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _errors(validator: jsonschema.Draft7Validator, event: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in sorted(validator.iter_errors(event), key=lambda e: list(e.absolute_path))]


def test_schema_file_is_the_detection_finding_class() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$id"] == "https://schema.ocsf.io/schema/classes/detection_finding"
    assert schema["title"] == "Detection Finding"
    assert schema["properties"]["class_uid"] == {"const": 2004, "title": "Class ID", "type": "integer"}
    assert {"finding_info", "metadata", "severity_id", "time", "cloud"} <= set(schema["required"])
    assert schema["additionalProperties"] is False
    assert {"finding_info", "resource_details", "cloud", "graph", "metadata", "remediation"} <= set(schema["$defs"])


def test_ocsf_is_a_core_format_of_report_and_findings() -> None:
    assert "ocsf" in formats("report") and "ocsf" in formats("findings")


def test_every_event_validates_against_the_ocsf_schema(validator: jsonschema.Draft7Validator) -> None:
    report = fixture_report()
    events = json.loads(render("ocsf", report))
    assert isinstance(events, list) and len(events) == len(report["findings"])
    for event in events:
        assert _errors(validator, event) == []


def test_mapping(validator: jsonschema.Draft7Validator) -> None:
    report = fixture_report()
    events = {e["finding_info"]["uid"]: e for e in json.loads(render("ocsf", report))}
    assert set(events) == {f["fingerprint"] for f in report["findings"]}
    severity = {fp[0]: (e["severity_id"], e["severity"]) for fp, e in events.items()}
    assert severity == {"a": (4, "High"), "b": (5, "Critical"), "c": (3, "Medium"), "d": (2, "Low"),
                        "e": (1, "Informational")}
    crit = events["b" * 64]
    finished = dt.datetime(2026, 11, 28, 9, 3, 12, tzinfo=dt.timezone.utc)
    assert crit["time"] == int(finished.timestamp() * 1000) and crit["time_dt"] == "2026-11-28T09:03:12Z"
    assert (crit["class_uid"], crit["category_uid"], crit["activity_id"], crit["type_uid"]) == (2004, 2, 1, 200401)
    assert (crit["status_id"], crit["status"]) == (1, "New")
    info = crit["finding_info"]
    assert info["title"] == "Agent key reaches customer invoices with write and delete"
    assert info["types"] == ["AR-AGENT-REACHES-SENSITIVE"]
    assert info["analytic"] == {"uid": "AR-AGENT-REACHES-SENSITIVE", "name": "Agent reaches sensitive data",
                                "type_id": 1, "type": "Rule"}
    assert "s3:DeleteObject granted by policy support-bot-data" in info["desc"]
    assert {"name": "OWASP-NHI", "value": "NHI5:2025 Overprivileged NHI"} in info["tags"]
    # the reach path is the finding's attack graph: a node per object, an edge per hop with its grant
    graph = info["attack_graph"]
    assert [n["uid"] for n in graph["nodes"]][0] == KEY and graph["nodes"][-1]["uid"] == BUCKET
    assert [(e["relation"], e["data"]["conditional"]) for e in graph["edges"]] == [
        ("authenticates", False), ("can_assume", True), ("can_access", False)]
    assert graph["edges"][2]["data"]["grant"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    subject, target = crit["resources"]
    assert (subject["uid"], subject["name"], subject["type"], subject["role_id"]) == (
        KEY, "AKIAEXAMPLEKEY000001", "aws_iam_access_key", 1)
    assert (target["uid"], target["name"], target["role_id"]) == (BUCKET, "customer-invoices", 3)
    assert crit["cloud"] == {"provider": "aws", "account": {"uid": "123456789012", "type_id": 10,
                                                            "type": "AWS Account"}}
    assert crit["remediation"]["desc"].startswith("Scope the role's policy")
    meta = crit["metadata"]
    assert meta["product"] == {"name": "agentreach", "vendor_name": "agentreach", "uid": "agentreach",
                               "version": __version__}
    assert meta["version"] == "1.8.0" and meta["profiles"] == ["cloud", "datetime"]
    assert meta["event_code"] == "AR-AGENT-REACHES-SENSITIVE" and meta["correlation_uid"] == "b" * 64
    assert meta["uid"] != events["a" * 64]["metadata"]["uid"]
    assert crit["unmapped"]["snapshot"] == 7 and crit["unmapped"]["frameworks"] == report["findings"][1]["frameworks"]
    file_event = events["d" * 64]
    assert file_event["resources"][0]["data"]["locations"] == report["findings"][3]["locations"]
    assert file_event["cloud"] == {"provider": "file"}
    assert "cloud" in events["a" * 64] and events["a" * 64]["cloud"]["account"]["uid"] == "123456789012"


def test_sparse_and_empty_reports(validator: jsonschema.Draft7Validator) -> None:
    assert json.loads(render("ocsf", {"summary": {}, "findings": [], "rules": []})) == []
    sparse = {"summary": {}, "rules": [], "findings": [{"rule": "AR-X", "severity": "weird"},
                                                         {"rule": "AR-Y", "severity": "low", "subject": "gcp:sa:x",
                                                          "account": "proj-1", "path": [{"from": "a", "to": "b"}]}]}
    events = json.loads(render("ocsf", sparse))
    assert [e["severity_id"] for e in events] == [0, 2]
    assert events[1]["cloud"]["account"] == {"uid": "proj-1", "type_id": 11, "type": "GCP Project"}
    for event in events:
        assert _errors(validator, event) == []


def test_the_validation_is_not_vacuous(validator: jsonschema.Draft7Validator) -> None:
    event = json.loads(render("ocsf", fixture_report()))[1]
    for mutate, needle in [
        (lambda e: e.__setitem__("severity_id", 7), "severity_id"),
        (lambda e: e["finding_info"].pop("uid"), "'uid' is a required property"),
        (lambda e: e.__setitem__("agentreach_extra", 1), "Additional properties"),
        (lambda e: e["resources"][0].__setitem__("uid", 5), "resources/0/uid"),
        (lambda e: e.pop("cloud"), "'cloud' is a required property"),
        (lambda e: e.__setitem__("class_uid", 2003), "class_uid"),
    ]:
        bad = json.loads(json.dumps(event))
        mutate(bad)
        assert any(needle in err for err in _errors(validator, bad)), needle


def test_ocsf_of_a_real_scan(tmp_path: pathlib.Path, validator: jsonschema.Draft7Validator) -> None:
    """Through the CLI, from a files-connector scan: valid events, the planted places, no value."""
    root = tmp_path / "agentrepo"
    _plant(root)
    db = str(tmp_path / "inv.db")
    runner = CliRunner()
    assert runner.invoke(main, ["--db", db, "-q", "scan", "--only", "files", "--path", str(root)]).exit_code == 0
    out = runner.invoke(main, ["--db", db, "report", "--format", "ocsf"])
    assert out.exit_code == 0, out.output
    for value in VALUES:
        assert value not in out.stdout
    events = json.loads(out.stdout)
    assert events
    for event in events:
        assert _errors(validator, event) == []
    places = {(loc["path"], loc["line"]) for e in events for loc in e["resources"][0]["data"]["locations"]}
    assert places == {(rel, line) for rel, line, _ in PLANTED}
    found = runner.invoke(main, ["--db", db, "findings", "--format", "ocsf", "--rule", "AR-SECRET-IN-FILES"])
    assert found.exit_code == 0, found.output
    assert len(json.loads(found.stdout)) == len(PLANTED)
