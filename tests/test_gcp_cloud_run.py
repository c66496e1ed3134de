"""Cloud Run services through the GCP REST fake with the connector's real HTTP client: v2
``projects.locations.services.list`` per configured region (``nextPageToken`` paging), a
``runs_as`` edge from each service to its ``template.serviceAccount`` (or the Compute
Engine default account when it is empty), labels as tags, env var *names* with only the
allow-listed model / framework values, never a Secret Manager value; a denied list is a gap."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any, Iterator

import pytest
from agentreach_connectors.gcp import GcpConnector
from agentreach_connectors.gcp.ids import sa_id
from agentreach_testing.demo.gcp import load_estate
from agentreach_testing.faults import Fault
from agentreach_testing.gcp_fake import GcpFakes, start_fakes

from agentreach.classify import SnapshotView, Thresholds, classify, load_signals
from agentreach.connector import ScanContext
from agentreach.model import Edge, EdgeKind, Workload

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
RUN_SA = "adk-run-app@agents-prod.iam.gserviceaccount.com"
COMPUTE_SA = "123456789012-compute@developer.gserviceaccount.com"
PLAIN_SECRET = "AIzaSyPlainValueThatMustNotBeKept0123456"


def estate() -> dict[str, Any]:
    data = copy.deepcopy(load_estate())
    project = next(p for p in data["projects"] if p["projectId"] == "agents-prod")
    project["serviceAccounts"].append({"email": RUN_SA, "uniqueId": "110000000000000000077",
                                       "displayName": "adk-run Agent Service Account"})
    env = [{"name": "MODEL", "value": "gemini-2.5-flash"}, {"name": "GOOGLE_API_KEY", "value": PLAIN_SECRET},
           {"name": "DB_PASSWORD", "valueSource": {"secretKeyRef": {"secret": "db-password", "version": "latest"}}},
           {"name": "ALLOW_ORIGINS", "value": "https://app.example"}]
    project["cloudRunServices"] = [
        {"id": "adk-run", "labels": {"created-by": "adk"}, "uri": "https://adk-run-xyz-uc.a.run.app",
         "createTime": "2025-01-01T00:00:00Z",
         "template": {"serviceAccount": RUN_SA, "containers": [{"name": "app", "image": "gcr.io/p/adk:1",
                                                               "env": env}]}},
        {"id": "hello", "template": {"containers": [{"image": "us-docker.pkg.dev/cloudrun/container/hello"}]}},
        {"id": "third", "template": {"serviceAccount": RUN_SA, "containers": []}},
        {"id": "elsewhere", "location": "europe-west1", "template": {"serviceAccount": RUN_SA}},
    ]
    return data


@pytest.fixture(scope="module")
def fakes() -> Iterator[GcpFakes]:
    f = start_fakes(estate(), NOW)
    yield f
    f.stop()


def scan(fakes: GcpFakes, **extra: Any) -> tuple[list[Any], ScanContext]:
    ctx = ScanContext(clock=lambda: NOW)
    return list(GcpConnector(fakes.config(projects=["agents-prod"], **extra)).scan(ctx)), ctx


@pytest.fixture(scope="module")
def scanned(fakes: GcpFakes) -> tuple[list[Any], ScanContext, list[str]]:
    fakes.rest.requests.clear()
    records, ctx = scan(fakes)
    return records, ctx, list(fakes.rest.requests)


def test_services_are_listed_per_region_and_paged(scanned: Any) -> None:
    records, ctx, requests = scanned
    assert not ctx.gaps.gaps, ctx.gaps.gaps
    calls = [r for r in requests if "/services" in r]
    assert calls == ["GET /v2/projects/agents-prod/locations/us-central1/services"] * 2  # two pages
    services = {w.name: w for w in records if isinstance(w, Workload) and w.type == "gcp_cloud_run_service"}
    assert sorted(services) == ["adk-run", "hello", "third"]  # europe-west1 is not in run_locations


def test_a_service_runs_as_its_account_with_labels_and_env_names_only(scanned: Any) -> None:
    records, _, _ = scanned
    svc = next(w for w in records if isinstance(w, Workload) and w.name == "adk-run")
    assert svc.native_id == "projects/agents-prod/locations/us-central1/services/adk-run"
    assert svc.tags == {"created-by": "adk"} and svc.region == "us-central1"
    assert svc.env_var_names == ("ALLOW_ORIGINS", "DB_PASSWORD", "GOOGLE_API_KEY", "MODEL")
    assert svc.attrs["env_values"] == {"MODEL": "gemini-2.5-flash"}
    edges = [r for r in records if isinstance(r, Edge) and r.src == svc.id]
    assert [(e.kind, e.dst) for e in edges] == [(EdgeKind.RUNS_AS, sa_id(RUN_SA))]
    text = json.dumps([r.to_dict() for r in records], default=str)
    assert PLAIN_SECRET not in text and "https://app.example" not in text


def test_no_service_account_means_the_compute_default_account(scanned: Any) -> None:
    records, _, _ = scanned
    svc = next(w for w in records if isinstance(w, Workload) and w.name == "hello")
    edge = next(r for r in records if isinstance(r, Edge) and r.src == svc.id)
    assert edge.dst == sa_id(COMPUTE_SA)
    assert any(r.id == sa_id(COMPUTE_SA) for r in records if not isinstance(r, Edge))  # emitted once, as a member


def test_the_classifier_reads_the_service(scanned: Any) -> None:
    records, _, _ = scanned
    nodes = [r for r in records if not isinstance(r, Edge)]
    view = SnapshotView.build(nodes, [r.to_dict() for r in records if isinstance(r, Edge)])
    verdict = classify(view, load_signals(), Thresholds())[sa_id(RUN_SA)]
    signals = {e.signal: e for e in verdict.evidence}
    assert verdict.verdict == "agent"
    assert signals["any.tag.declared-purpose"].via == "runs_as"
    assert "any.workload.env-value-model" in signals


def test_a_denied_list_is_a_gap_and_the_rest_is_kept(fakes: GcpFakes) -> None:
    fakes.add(Fault("deny", api="run", scope="agents-prod"))
    try:
        records, ctx = scan(fakes)
    finally:
        fakes.faults.clear()
    assert [(g.operation, g.error_code) for g in ctx.gaps.gaps] == [("services.list:us-central1",
                                                                     "PERMISSION_DENIED")]
    assert "run.services.list" in ctx.gaps.gaps[0].message
    assert any(r.id == sa_id(RUN_SA) for r in records if not isinstance(r, Edge))


def test_the_fake_refuses_the_wildcard_location(fakes: GcpFakes) -> None:
    import requests

    resp = requests.get(f"{fakes.rest.url}/v2/projects/agents-prod/locations/-/services", timeout=5)
    assert resp.status_code == 400 and resp.json()["error"]["status"] == "INVALID_ARGUMENT"
