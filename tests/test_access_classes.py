"""Access classes (config/access-classes.yaml): data versus metadata per system type, the
table's checks, the grant record that carries them, and the Azure and GCP readings that
depend on the target (shared keys, the Key Vault permission model, scopes below a system,
federated credentials, BigQuery's special groups, request.time)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from agentreach.config import ConfigError, shipped
from agentreach.graph.grant import AccessGrant, compact, holds
from agentreach.model import Credential, Edge, EdgeKind, Identity, Node, Policy, System
from agentreach.policy.azure import edges as azure_edges
from agentreach.policy.classes import classify_aws, classify_gcp, parse
from agentreach.policy.gcp import edges as gcp_edges
from agentreach.view import SnapshotView

# -- the table ----------------------------------------------------------------------------------

def test_the_shipped_table_parses_and_a_bad_entry_is_named_in_one_line() -> None:
    data = yaml.safe_load(shipped("access-classes.yaml"))
    assert parse(data).aws["s3"]
    bad = {**data, "aws": {"s3": {"rules": [{"match": ["GetObject"], "classes": ["read-date"]}]}}}
    with pytest.raises(ConfigError, match=r"config/access-classes.yaml: aws.s3 rule 1: unknown access class 'read-date'"):
        parse(bad)
    plane = {**data, "azure": {"azure_key_vault": {"rules": [{"match": ["x"], "classes": ["read-data"], "plane": "y"}]}}}
    with pytest.raises(ConfigError, match="azure.azure_key_vault rule 1: plane must be control or data"):
        parse(plane)
    unknown = {**data, "gcp": {"gcp_bucket": {"rules": [{"match": ["a"], "classes": ["read-data"], "with": ["b"]}]}}}
    with pytest.raises(ConfigError, match="gcp.gcp_bucket rule 1: unknown key 'with'"):
        parse(unknown)


@pytest.mark.parametrize(("actions", "expected"), [
    ({"s3:GetObject"}, {"read-data"}),
    ({"s3:GetBucketPolicy", "s3:ListBucket"}, {"read-metadata"}),
    ({"s3:PutBucketPolicy"}, {"permissions-management"}),
    ({"s3:PutObject"}, {"write-data"}),
    ({"secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"}, {"read-metadata"}),
    ({"secretsmanager:BatchGetSecretValue"}, {"read-metadata"}),  # alone it returns no value
    ({"secretsmanager:BatchGetSecretValue", "secretsmanager:GetSecretValue"}, {"read-data"}),
    ({"kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"}, {"read-data", "read-metadata"}),
    ({"kms:Encrypt"}, {"write-data"}),
    ({"dynamodb:PartiQLSelect"}, {"read-data"}),
    ({"dynamodb:DescribeTable"}, {"read-metadata"}),
])
def test_aws_actions_by_class(actions: set[str], expected: set[str]) -> None:
    assert classify_aws(None, actions).classes == expected


def test_a_class_is_conditional_only_when_every_action_giving_it_is() -> None:
    got = classify_aws(None, {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"},
                       conditional={"s3:GetObject", "s3:GetObjectVersion"})
    assert got.conditional == {"read-data"} and got.actions["read-data"] == ("s3:GetObject", "s3:GetObjectVersion")
    assert "read-data" not in classify_aws(None, {"s3:GetObject", "s3:GetObjectVersion"},
                                           conditional={"s3:GetObject"}).conditional


def test_gcp_permissions_by_class() -> None:
    assert classify_gcp("gcp_bucket", {"storage.objects.get", "storage.objects.list"}).classes == {
        "read-data", "read-metadata"}
    assert classify_gcp("gcp_bucket", {"storage.objects.list", "storage.buckets.get"}).classes == {"read-metadata"}
    assert classify_gcp("gcp_secret", {"secretmanager.versions.access"}).classes == {"read-data"}
    assert classify_gcp("gcp_project", {"bigquery.tables.getData"}).classes == {"read-data"}  # a project holds all
    assert classify_gcp("gcp_bucket", {"storage.buckets.setIamPolicy"}).classes == {"permissions-management"}


# -- the grant record --------------------------------------------------------------------------

def test_compact_actions_hold_every_action_and_read_back() -> None:
    pool = {f"s3:{n}" for n in ("GetObject", "PutObject", "ListBucket", "GetBucketPolicy", "PutBucketPolicy")}
    assert compact(pool, pool) == {"s3": "*"}
    most = compact(pool - {"s3:PutBucketPolicy"}, pool)
    assert most == {"s3": {"all_but": ["PutBucketPolicy"]}}
    assert holds(most, "s3:PutBucketPolicy") is False and holds(most, "s3:GetObject") is None
    few = compact({"s3:GetObject"}, pool)
    assert few == {"s3": ["GetObject"]} and holds(few, "s3:getobject") is True and holds(few, "kms:Decrypt") is False


def test_merge_keeps_a_class_sure_when_either_grant_holds_it_without_condition() -> None:
    a = AccessGrant(level="read", classes=frozenset({"read-data"}), conditional_classes=frozenset({"read-data"}),
                    conditional=True, condition_keys=("aws:SourceIp",), actions=frozenset({"s3:GetObject"}),
                    actions_by_service={"s3": ["GetObject"]}, conditional_actions=frozenset({"s3:GetObject"}))
    b = AccessGrant(level="read", classes=frozenset({"read-data", "read-metadata"}), actions=frozenset({"s3:GetObject"}),
                    actions_by_service={"s3": ["GetObject", "ListBucket"]})
    merged = a.merge(b)
    assert merged.classes == {"read-data", "read-metadata"} and not merged.conditional_classes
    assert not merged.conditional and merged.conditional_actions == frozenset()
    back = AccessGrant.from_attrs(merged.to_attrs())
    assert back.classes == merged.classes and back.actions_by_service == {"s3": ["GetObject", "ListBucket"]}
    assert a.merge(a).conditional_classes == {"read-data"}


# -- Azure: the target decides -------------------------------------------------------------------

SUB = "/subscriptions/6b1f3c2e-4d5a-4b7c-9e8f-0a1b2c3d4e5f"
RG = f"{SUB}/resourcegroups/rg"
ACCOUNT = f"{RG}/providers/microsoft.storage/storageaccounts/st"
VAULT = f"{RG}/providers/microsoft.keyvault/vaults/kv"
ROLES = {
    "reader": {"actions": ["*/read"]},
    "keys": {"actions": ["Microsoft.Storage/storageAccounts/listKeys/action"]},
    "blob-reader": {"actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/read"],
                    "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"]},
    "secrets-user": {"dataActions": ["Microsoft.KeyVault/vaults/secrets/getSecret/action",
                                     "Microsoft.KeyVault/vaults/secrets/readMetadata/action"]},
}


def azure(assignments: list[tuple[str, str]], shared_key: Any = None, rbac_vault: bool = True,
          extra_nodes: list[Node] = (), extra_edges: list[Edge] = ()) -> dict[tuple[str, str, str], dict[str, Any]]:
    nodes: list[Node] = [
        System(id="azure:subscription:s", provider="azure", source="azure", type="azure_subscription", name="s",
               native_id=SUB, account="s"),
        System(id="azure:storage_account:st", provider="azure", source="azure", type="azure_storage_account",
               name="st", native_id=ACCOUNT, account="s",
               attrs={"resource_type": "Microsoft.Storage/storageAccounts", "allow_shared_key_access": shared_key}),
        System(id="azure:key_vault:kv", provider="azure", source="azure", type="azure_key_vault", name="kv",
               native_id=VAULT, account="s",
               attrs={"resource_type": "Microsoft.KeyVault/vaults", "enable_rbac_authorization": rbac_vault}),
        Identity(id="azure:sp:x", provider="azure", source="azure", type="azure_sp", name="x", native_id="x",
                 account="t"),
        *extra_nodes,
    ]
    edges: list[Edge] = list(extra_edges)
    for n, (role, scope) in enumerate(assignments):
        nodes.append(Policy(id=f"azure:role_definition:{role}", provider="azure", source="azure",
                            type="azure_role_definition", name=role,
                            document={"roleName": role, "permissions": [ROLES[role]]}))
        edges.append(Edge(src="azure:sp:x", dst=f"azure:role_definition:{role}", kind=EdgeKind.HAS_POLICY,
                          source="azure", key=str(n), attrs={"attachment": "role_assignment", "scope": scope}))
    view = SnapshotView.build(nodes, [e.to_dict() for e in edges])
    return {(e.src, e.kind.value, e.dst): dict(e.attrs) for e in azure_edges.derive(view).edges}


def classes(got: dict, dst: str, src: str = "azure:sp:x") -> set[str]:
    return set((got.get((src, "can_access", dst)) or {}).get("classes") or ())


def test_reader_at_subscription_reads_metadata_never_data() -> None:
    got = azure([("reader", SUB)])
    assert classes(got, "azure:storage_account:st") == {"read-metadata"}
    assert classes(got, "azure:key_vault:kv") == {"read-metadata"}


def test_list_keys_is_a_data_path_only_while_shared_keys_are_allowed() -> None:
    assert {"read-data", "write-data"} <= classes(azure([("keys", ACCOUNT)], shared_key=None), "azure:storage_account:st")
    assert "read-data" not in classes(azure([("keys", ACCOUNT)], shared_key=False), "azure:storage_account:st")


def test_vault_data_roles_count_only_in_the_rbac_model() -> None:
    assert "read-data" in classes(azure([("secrets-user", RG)]), "azure:key_vault:kv")
    assert ("azure:sp:x", "can_access", "azure:key_vault:kv") not in azure([("secrets-user", RG)], rbac_vault=False)


def test_a_grant_on_a_container_reaches_its_storage_account() -> None:
    got = azure([("blob-reader", f"{ACCOUNT}/blobservices/default/containers/exports")])
    edge = got[("azure:sp:x", "can_access", "azure:storage_account:st")]
    assert "read-data" in edge["classes"] and "a part of st" in edge["grants"][0]


def test_a_managed_identity_trusted_by_an_entra_federated_credential_can_assume_the_app() -> None:
    mi = Identity(id="azure:managed_identity:mi", provider="azure", source="azure", type="azure_managed_identity",
                  name="mi", native_id="0f0f0f0f-0000-4000-8000-000000000001", account="t")
    app = Identity(id="azure:app:app", provider="azure", source="azure", type="azure_app", name="app",
                   native_id="app", account="t")

    def fic(n: int, issuer: str, subject: str) -> tuple[Credential, Edge]:
        cred = Credential(id=f"azure:federated_credential:{n}", provider="azure", source="azure",
                          type="azure_federated_credential", name=f"fic{n}", native_id=str(n), account="t",
                          attrs={"issuer": issuer, "subject": subject})
        return cred, Edge(src=cred.id, dst=app.id, kind=EdgeKind.AUTHENTICATES, source="azure")

    entra, entra_edge = fic(1, "https://login.microsoftonline.com/72f988bf-0000-4000-8000-00000000a1b2/v2.0",
                            mi.native_id or "")
    github, github_edge = fic(2, "https://token.actions.githubusercontent.com", mi.native_id or "")
    got = azure([], extra_nodes=[mi, app, entra, github], extra_edges=[entra_edge, github_edge])
    assume = got[(mi.id, "can_assume", app.id)]
    assert "fic1" in assume["grants"][0] and "fic2" not in " ".join(assume["grants"])


# -- GCP: special groups and request.time --------------------------------------------------------

GCP_ROLES = {"roles/viewer": ["bigquery.datasets.get", "resourcemanager.projects.get"],
             "roles/bigquery.dataViewer": ["bigquery.tables.getData", "bigquery.tables.list"],
             "roles/secretmanager.secretAccessor": ["secretmanager.versions.access"]}


def gcp(project_bindings: list[dict], dataset_bindings: list[dict], secret_bindings: list[dict] = (),
        now: dt.datetime | None = None, taken: dt.datetime | None = None) -> dict[tuple[str, str, str], dict[str, Any]]:
    from agentreach.policy.context import RequestContext

    def sa(name: str) -> Identity:
        email = f"{name}@p.iam.gserviceaccount.com"
        return Identity(id=f"gcp:sa:{email}", provider="gcp", source="gcp", type="gcp_sa", name=name,
                        native_id=email, account="p", attrs={"project": "p"})

    nodes: list[Node] = [
        System(id="gcp:project:p", provider="gcp", source="gcp", type="gcp_project", name="p", native_id="projects/p",
               account="p", resource_policy={"bindings": project_bindings}),
        System(id="gcp:bigquery_dataset:p:d", provider="gcp", source="gcp", type="gcp_bigquery_dataset", name="d",
               native_id="projects/p/datasets/d", account="p", resource_policy={"bindings": dataset_bindings},
               attrs={"parent": "projects/p"}),
        System(id="gcp:secret:p/s", provider="gcp", source="gcp", type="gcp_secret", name="s",
               native_id="projects/p/secrets/s", account="p", resource_policy={"bindings": list(secret_bindings)},
               attrs={"parent": "projects/p"}),
        sa("viewer"), sa("other"),
        *[Policy(id=f"gcp:role:{r}", provider="gcp", source="gcp", type="gcp_role", name=r, native_id=r,
                 document={"includedPermissions": p}) for r, p in GCP_ROLES.items()],
    ]
    out = gcp_edges.derive(SnapshotView.build(nodes, [], at=taken), RequestContext({}, now) if now else None)
    return {(e.src, e.kind.value, e.dst): dict(e.attrs) for e in out.edges}


VIEWER, OTHER = "gcp:sa:viewer@p.iam.gserviceaccount.com", "gcp:sa:other@p.iam.gserviceaccount.com"


def test_bigquery_project_readers_are_the_project_s_viewers() -> None:
    got = gcp([{"role": "roles/viewer", "members": [f"serviceAccount:{VIEWER[7:]}"]}],
              [{"role": "roles/bigquery.dataViewer", "members": ["specialGroup:projectReaders"]}])
    assert "read-data" in got[(VIEWER, "can_access", "gcp:bigquery_dataset:p:d")]["classes"]
    assert (OTHER, "can_access", "gcp:bigquery_dataset:p:d") not in got


def test_request_time_conditions_are_decided_at_the_given_time() -> None:
    until = {"title": "until 2020", "expression": 'request.time < timestamp("2020-01-01T00:00:00Z")'}
    binding = [{"role": "roles/secretmanager.secretAccessor", "members": [f"serviceAccount:{OTHER[7:]}"],
                "condition": until}]
    assert (OTHER, "can_access", "gcp:secret:p/s") not in gcp([], [], binding,
                                                              dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    then = gcp([], [], binding, dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc))[(OTHER, "can_access", "gcp:secret:p/s")]
    assert then["conditional"] is False
    # With no stated time, the snapshot's own: deriving a 2019 snapshot again today (findings
    # --recompute) gives the answer its scan gave, not today's.
    scanned = gcp([], [], binding, taken=dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc))
    assert scanned[(OTHER, "can_access", "gcp:secret:p/s")]["conditional"] is False
    assert (OTHER, "can_access", "gcp:secret:p/s") not in gcp([], [], binding)  # a view of no snapshot: now
    other = {"title": "from the office", "expression": 'request.time < timestamp("2030-01-01T00:00:00Z") && '
                                                       'origin.ip == "203.0.113.7"'}
    kept = gcp([], [], [{**binding[0], "condition": other}])[(OTHER, "can_access", "gcp:secret:p/s")]
    assert kept["conditional"] is True and kept["condition_keys"] == [other["expression"]]
