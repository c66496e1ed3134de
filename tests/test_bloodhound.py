"""The OpenGraph export merges with what BloodHound's own collectors put in its graph.

On the three-cloud demo's snapshot: Entra objects carry the ids AzureHound gives them and
BloodHound's ingest stores (object ids, the tenant id and ARM resource ids upper-cased; an
application by its appId: SpecterOps/BloodHound packages/go/ein/azure.go), AWS objects their
ARNs (as AWSHound writes its nodes); every node has an edge (bhopengraph's validator finds no
isolated node and no dangling edge); nodes and edges pass the OpenGraph JSON schemas and the
documented rules (objectid is reserved, at most three kinds, edge kinds are [A-Za-z0-9_]).
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from agentreach.cli import main
from agentreach.store import Store


@pytest.fixture(scope="module")
def exported(demo_db: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["--db", demo_db, "graph", "export", "--format", "opengraph"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_validator_finds_nothing_not_even_an_isolated_node(demo_db: str, exported: dict[str, Any]) -> None:
    from bhopengraph.OpenGraph import OpenGraph

    data = exported
    og = OpenGraph()
    assert og.import_from_dict(data)
    ok, errors = og.validate_graph()
    assert ok, errors[:10]
    store = Store(demo_db)
    kept = {n["properties"]["agentreach_id"] for n in data["graph"]["nodes"]}
    left = [s.node for s in store.nodes(store.latest_snapshot().id) if s.node.id not in kept]
    assert left and {(n.kind.value, n.type, n.account) for n in left} == {("policy", "gcp_role", None)}, \
        "only what has no edge and no container is left out: Google's predefined role definitions (a binding is a can_access edge, not an edge to the role)"
    assert len(og.nodes) == len(data["graph"]["nodes"]), "one node per id: none merged away by the importer"


def test_nodes_and_edges_follow_the_schemas_and_documented_rules(demo_db: str, exported: dict[str, Any]) -> None:
    from bhopengraph.Edge import EDGE_SCHEMA
    from bhopengraph.Node import NODE_SCHEMA

    data = exported
    for node in data["graph"]["nodes"]:
        jsonschema.validate(node, NODE_SCHEMA)
        assert "objectid" not in node["properties"] and 1 <= len(node["kinds"]) <= 3
    for edge in data["graph"]["edges"]:
        jsonschema.validate(edge, EDGE_SCHEMA)
        assert re.fullmatch(r"[A-Za-z0-9_]+", edge["kind"])


def test_entra_and_aws_ids_are_the_ones_bloodhound_collectors_write(demo_db: str, exported: dict[str, Any]) -> None:
    data = exported
    by_ours = {n["properties"]["agentreach_id"]: n["id"] for n in data["graph"]["nodes"]}
    store = Store(demo_db)
    snapshot = store.latest_snapshot().id
    checked: dict[str, int] = {}

    def expect(stored: Any, bloodhound: str) -> None:
        assert by_ours[stored.node.id] == bloodhound, (stored.node.id, by_ours[stored.node.id], bloodhound)
        checked[stored.node.type] = checked.get(stored.node.type, 0) + 1

    for stored in store.nodes(snapshot):
        node = stored.node
        if node.id not in by_ours:
            continue
        if node.type in ("azure_sp", "azure_managed_identity", "entra_user"):
            expect(stored, node.native_id.upper())  # AZServicePrincipal / AZUser: ToUpper(object id)
        elif node.type == "azure_app":
            expect(stored, node.native_id.upper())  # AZApp: ToUpper(appId)
        elif node.type == "azure_directory":
            expect(stored, node.attrs["tenant_id"].upper())  # AZTenant: ToUpper(tenantId)
        elif node.type == "azure_subscription":
            expect(stored, f"/SUBSCRIPTIONS/{node.attrs['subscription_id'].upper()}")  # ToUpper(ARM id)
        elif node.type in ("azure_key_vault", "azure_resource_group"):
            expect(stored, node.native_id.upper())
        elif node.provider == "aws" and node.type in ("aws_iam_role", "aws_iam_user", "aws_s3_bucket", "aws_kms_key"):
            assert node.native_id.startswith("arn:aws:")
            expect(stored, node.native_id)  # AWSHound: the ARN as AWS writes it
        elif node.kind.value == "credential":
            expect(stored, node.id)  # a key, a secret, a console password: no collector has a node for them
    assert {"azure_sp", "azure_app", "azure_directory", "azure_subscription", "aws_iam_role", "aws_iam_user"} \
        <= set(checked), checked
    app = next(s for s in store.nodes(snapshot, types=["azure_app"]))
    assert by_ours[app.node.id] != app.node.attrs["object_id"].upper(), "an application is its appId, not object id"
    assert all(i == i.upper() for t, i in ((n["kinds"][1], n["id"]) for n in data["graph"]["nodes"])
               if t in ("AR_azure_sp", "AR_azure_app", "AR_azure_directory"))


def test_every_object_is_contained_by_its_account_tenant_subscription_or_project(demo_db: str, exported: dict[str, Any]) -> None:
    data = exported
    kinds = {n["id"]: n["kinds"][1] for n in data["graph"]["nodes"]}
    contains = [(kinds[e["start"]["value"]], kinds[e["end"]["value"]]) for e in data["graph"]["edges"]
                if e["kind"] == "AR_Contains"]
    assert ("AR_aws_account", "AR_aws_acm_certificate") in contains
    assert ("AR_azure_directory", "AR_azure_sp") in contains
    assert ("AR_azure_subscription", "AR_azure_key_vault") in contains
    assert ("AR_gcp_project", "AR_gcp_api_key") in contains
    assert {start for start, _end in contains} <= {"AR_aws_account", "AR_azure_directory", "AR_azure_subscription",
                                                   "AR_gcp_project", "AR_gcp_organization"}
