"""Cloud Audit Logs of service accounts as activity, through the GCP REST fake with the real
google-auth session: the ``entries:list`` filter (window, audit log names, service-account
principals), ``nextPageToken`` paging and throttling. The entries follow Google's published
shape: the sample audit log entry of "Understanding audit logs"
(https://cloud.google.com/logging/docs/audit/understanding-audit-logs) and the AuditLog type
(https://cloud.google.com/logging/docs/reference/audit/auditlog/rest/Shared.Types/AuditLog:
methodName, resourceName, authenticationInfo.principalEmail / serviceAccountKeyName,
requestMetadata.callerIp / callerSuppliedUserAgent, status)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from agentreach_connectors.gcp import GcpConnector, audit
from agentreach_testing.faults import Fault
from agentreach_testing.gcp_fake import Faults, GcpFakes, start_fakes
from click.testing import CliRunner

from agentreach.activity import ACTIVITY_OPTION, ActivityAggregate
from agentreach.cli import main
from agentreach.connector import ScanContext
from agentreach.store import Store

from .test_gcp_connector import AGENT_SA, NEVER_USED_KEY, NOW, estate

PROJECT = "agents-prod"
ADK_UA = "google-adk/1.2.0 gl-python/3.12.3 grpc/1.66.0 gax/2.20.0 gccl/2.18.0"


def _t(days: float) -> str:
    return (NOW - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def entry(n: int, when: str, *, email: str = AGENT_SA, method: str = "storage.objects.get",
          resource: str = "projects/_/buckets/agents-prod-artifacts/objects/model/config.json",
          key: str | None = NEVER_USED_KEY, code: int | None = None, log: str = "data_access") -> dict[str, Any]:
    auth: dict[str, Any] = {"principalEmail": email}
    if key:
        auth["serviceAccountKeyName"] = (f"//iam.googleapis.com/projects/{PROJECT}/serviceAccounts/{email}/"
                                         f"keys/{key}")
    payload: dict[str, Any] = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog", "serviceName": "storage.googleapis.com",
        "methodName": method, "resourceName": resource, "authenticationInfo": auth,
        "authorizationInfo": [{"resource": resource, "permission": method, "granted": code is None}],
        "requestMetadata": {"callerIp": "198.51.100.20", "callerSuppliedUserAgent": ADK_UA,
                            "requestAttributes": {"time": when, "auth": {}}, "destinationAttributes": {}},
        "resourceLocation": {"currentLocations": ["us-central1"]},
        "request": {"@type": "type.googleapis.com/google.storage.v1.GetObjectRequest", "bucket": "x"},
    }
    if code is not None:
        payload["status"] = {"code": code, "message": "PERMISSION_DENIED"}
    return {"protoPayload": payload, "insertId": f"1l4qxk5e{n:04d}", "timestamp": when, "severity": "INFO",
            "logName": f"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2F{log}",
            "resource": {"type": "gcs_bucket", "labels": {"project_id": PROJECT, "bucket_name": "agents-prod-artifacts",
                                                           "location": "us-central1"}},
            "receiveTimestamp": when}


@pytest.fixture
def fakes() -> Iterator[GcpFakes]:
    data = estate()
    project = next(p for p in data["projects"] if p["projectId"] == PROJECT)
    project["auditLogEntries"] = [
        *[entry(i, _t(1 + i)) for i in range(3)],
        entry(10, _t(2), method="storage.objects.delete", code=7),
        entry(11, _t(1), method="google.iam.admin.v1.CreateServiceAccountKey", key=None, log="activity",
              resource=f"projects/{PROJECT}/serviceAccounts/{AGENT_SA}"),
        entry(12, _t(200)),  # before the window
        entry(13, _t(1), email="alice@example.com"),  # a person, not a service account
    ]
    f = start_fakes(data, NOW, Faults(denied={"data-lake": {"iam"}, "locked-proj": {"*"}}))
    yield f
    f.stop()


def _scan(fakes: GcpFakes) -> tuple[list[ActivityAggregate], ScanContext]:
    ctx = ScanContext(clock=lambda: NOW)
    conn = GcpConnector(fakes.config(activity=True, activity_since="30d", page_size=2, projects=[PROJECT]))
    return [r for r in conn.scan(ctx) if isinstance(r, ActivityAggregate)], ctx


def test_service_account_audit_entries_become_aggregates(fakes: GcpFakes) -> None:
    aggs, ctx = _scan(fakes)
    assert [g for g in ctx.gaps.gaps if g.service == "logging"] == []
    got = {(a.action, a.outcome): a for a in aggs}
    read = got[("storage.objects.get", "success")]
    assert read.count == 3 and read.identity == f"gcp:sa:{AGENT_SA}"
    assert read.credential == f"gcp:sa_key:{NEVER_USED_KEY}" and read.user_agents == (ADK_UA,)
    assert read.resource.startswith("projects/_/buckets/agents-prod-artifacts")
    assert got[("storage.objects.delete", "denied")].error_codes == ("7",)
    assert got[("google.iam.admin.v1.CreateServiceAccountKey", "success")].credential is None
    assert sum(a.count for a in aggs) == 5  # not the old entry, not the person's
    asked = [r for r in fakes.rest.requests if r.endswith("/v2/entries:list")]
    assert len(asked) == 3  # five entries, two a page


def test_throttled_entries_are_retried_and_a_denied_log_is_a_gap(fakes: GcpFakes) -> None:
    fakes.add(Fault("throttle", api="logging", operation="entries.list", times=1))
    aggs, ctx = _scan(fakes)
    assert sum(a.count for a in aggs) == 5 and [g for g in ctx.gaps.gaps if g.service == "logging"] == []
    fakes.faults.clear()
    fakes.add(Fault("deny", api="logging", scope=PROJECT))
    aggs, ctx = _scan(fakes)
    assert aggs == []
    assert [(g.operation, g.error_code) for g in ctx.gaps.gaps if g.service == "logging"] == [
        (audit.OPERATION, "PERMISSION_DENIED")]


def test_the_gcp_activity_flag_reads_the_audit_logs_and_the_snapshot_says_it_looked(fakes: GcpFakes,
                                                                                     tmp_path: Path) -> None:
    """``scan --gcp-activity`` is ``connectors.gcp.activity: true`` for one run, as --entra-activity is for
    Azure: the entries become the service account's activity, and the snapshot records that GCP
    was asked, so the run-time rules tell "nothing seen" from "nobody looked"."""
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"connectors": {"gcp": fakes.config(projects=[PROJECT], activity_since="30d")}}))
    db = str(tmp_path / "inv.db")
    runner = CliRunner()
    plain = runner.invoke(main, ["--db", db, "--config", str(cfg), "-q", "scan", "--only", "gcp"])
    assert plain.exit_code == 0, plain.output
    assert not [r for r in fakes.rest.requests if r.endswith("/v2/entries:list")]
    store = Store(db, create=False)
    assert ACTIVITY_OPTION not in (store.latest_snapshot().options or {})
    asked = runner.invoke(main, ["--db", db, "--config", str(cfg), "-q", "scan", "--only", "gcp", "--gcp-activity"])
    assert asked.exit_code == 0, asked.output
    assert Store(db, create=False).latest_snapshot().options[ACTIVITY_OPTION] == ["gcp"]
    result = runner.invoke(main, ["--db", db, "activity", AGENT_SA, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {(r["action"], r["outcome"]): r["count"] for r in json.loads(result.output)["activity"]}
    assert rows[("storage.objects.get", "success")] == 3 and rows[("storage.objects.delete", "denied")] == 1
