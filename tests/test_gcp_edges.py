"""The GCP reach deriver on hand-made snapshots: inheritance down the hierarchy, roles to
permissions, conditional bindings, deny policies, impersonation and federation."""

from __future__ import annotations

from typing import Any

from agentreach.model import Credential, Edge, EdgeKind, Identity, Node, Policy, System
from agentreach.policy.gcp import edges as gcp_edges
from agentreach.view import SnapshotView

ROLES = {
    "roles/bigquery.dataEditor": ["bigquery.tables.getData", "bigquery.tables.updateData", "bigquery.tables.list"],
    "roles/bigquery.dataViewer": ["bigquery.tables.getData", "bigquery.tables.list"],
    "roles/storage.objectViewer": ["storage.objects.get", "storage.objects.list"],
    "roles/secretmanager.secretAccessor": ["secretmanager.versions.access"],
    "roles/iam.serviceAccountTokenCreator": ["iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.signJwt"],
    "roles/iam.workloadIdentityUser": ["iam.serviceAccounts.getAccessToken"],
    "roles/owner": ["resourcemanager.projects.setIamPolicy", "storage.objects.get", "secretmanager.versions.access"],
}


def sa(email: str, policy: dict | None = None, project: str = "p") -> Identity:
    return Identity(id=f"gcp:sa:{email}", provider="gcp", source="gcp", type="gcp_sa", name=email.split("@")[0],
                    native_id=email, account=project,
                    attrs={"project": project, **({"resource_policy": policy} if policy else {})})


def system(type_: str, native: str, parent: str | None, bindings: list[dict]) -> System:
    return System(id=f"gcp:{type_}:{native}", provider="gcp", source="gcp", type=f"gcp_{type_}", name=native,
                  native_id=native, account="p", resource_policy={"version": 3, "bindings": bindings},
                  attrs={"parent": parent})


def binding(role: str, *members: str, condition: dict | None = None) -> dict:
    return {"role": role, "members": list(members), **({"condition": condition} if condition else {})}


def roles() -> list[Policy]:
    return [Policy(id=f"gcp:role:{r}", provider="gcp", source="gcp", type="gcp_role", name=r, native_id=r,
                   document={"includedPermissions": perms}) for r, perms in ROLES.items()]


def derive(nodes: list[Node], edges: list[Edge] = ()) -> dict[tuple[str, str, str], dict[str, Any]]:
    view = SnapshotView.build([*nodes, *roles()], [e.to_dict() for e in edges])
    out = gcp_edges.derive(view)
    return {(e.src, e.kind.value, e.dst): dict(e.attrs) for e in out.edges}


A, B, C = "a@p.iam.gserviceaccount.com", "b@p.iam.gserviceaccount.com", "c@p.iam.gserviceaccount.com"
AGENT = "service-1@gcp-sa-aiplatform-re.iam.gserviceaccount.com"


def hierarchy(project_bindings: list[dict], folder_bindings: list[dict] = ()) -> list[Node]:
    return [system("organization", "organizations/1", None, []),
            system("folder", "folders/2", "organizations/1", list(folder_bindings)),
            system("project", "projects/p", "folders/2", project_bindings)]


def test_folder_grant_is_inherited_by_the_project_and_its_datasets_only_for_its_service() -> None:
    nodes = [*hierarchy([], [binding("roles/bigquery.dataViewer", f"serviceAccount:{A}")]), sa(A),
             system("bigquery_dataset", "projects/p/datasets/d", "projects/p", []),
             system("bucket", "projects/_/buckets/b", "projects/p", [])]
    got = derive(nodes)
    edge = got[(f"gcp:sa:{A}", "can_access", "gcp:bigquery_dataset:projects/p/datasets/d")]
    assert edge["level"] == "read" and edge["conditional"] is False and edge["admin"] is False
    assert edge["grants"] == ["roles/bigquery.dataViewer on projects/p/datasets/d (inherited from folders/2)"]
    assert (f"gcp:sa:{A}", "can_access", "gcp:project:projects/p") in got
    assert (f"gcp:sa:{A}", "can_access", "gcp:bucket:projects/_/buckets/b") not in got  # no storage permission


def test_the_agent_engine_service_agent_with_bigquery_roles_reaches_the_dataset_for_write() -> None:
    agent = Identity(id=f"gcp:service_agent:{AGENT}", provider="gcp", source="gcp", type="gcp_service_agent",
                     name=AGENT, native_id=AGENT, account="p")
    nodes = [*hierarchy([]), agent, system("bigquery_dataset", "projects/p/datasets/customers", "projects/p",
                                          [binding("roles/bigquery.dataEditor", f"serviceAccount:{AGENT}")])]
    edge = derive(nodes)[(agent.id, "can_access", "gcp:bigquery_dataset:projects/p/datasets/customers")]
    assert edge["level"] == "write" and "bigquery.tables.updateData" in edge["actions"]


def test_a_conditional_binding_makes_a_conditional_edge_with_its_cel_expression() -> None:
    cel = 'resource.name.startsWith("projects/_/buckets/b/objects/prompts/")'
    nodes = [*hierarchy([]), sa(A), system("bucket", "projects/_/buckets/b", "projects/p", [
        binding("roles/storage.objectViewer", f"serviceAccount:{A}", condition={"title": "prompts", "expression": cel})])]
    edge = derive(nodes)[(f"gcp:sa:{A}", "can_access", "gcp:bucket:projects/_/buckets/b")]
    assert edge["conditional"] is True and edge["condition_keys"] == [cel]
    assert edge["grants"][0].endswith(f"if prompts: {cel}")


def test_an_unconditional_grant_beats_a_conditional_one() -> None:
    nodes = [*hierarchy([binding("roles/storage.objectViewer", f"serviceAccount:{A}")]), sa(A),
             system("bucket", "projects/_/buckets/b", "projects/p", [binding(
                 "roles/storage.objectViewer", f"serviceAccount:{A}", condition={"expression": "request.time < x"})])]
    assert derive(nodes)[(f"gcp:sa:{A}", "can_access", "gcp:bucket:projects/_/buckets/b")]["conditional"] is False


def deny(principals: list[str], permissions: list[str], condition: dict | None = None,
         exceptions: list[str] = ()) -> Policy:
    return Policy(id="gcp:deny_policy:x", provider="gcp", source="gcp", type="gcp_deny_policy", name="no-secrets",
                  native_id="policies/x/denypolicies/no-secrets",
                  attrs={"attached_to": "projects/p", "attachment_point": "cloudresourcemanager.googleapis.com/projects/p"},
                  document={"rules": [{"deniedPrincipals": principals, "deniedPermissions": permissions,
                                       "exceptionPrincipals": list(exceptions), "denialCondition": condition}]})


def test_a_deny_policy_removes_the_permission_it_names() -> None:
    secret = system("secret", "projects/p/secrets/s", "projects/p", [])
    base = [*hierarchy([binding("roles/secretmanager.secretAccessor", f"serviceAccount:{A}", f"serviceAccount:{B}"),
                        binding("roles/owner", f"serviceAccount:{C}")]), sa(A), sa(B), sa(C), secret]
    rule = deny([f"principal://iam.googleapis.com/projects/-/serviceAccounts/{A}", "principalSet://goog/public:all"],
                ["secretmanager.googleapis.com/versions.access"], exceptions=[
                    f"principal://iam.googleapis.com/projects/-/serviceAccounts/{C}"])
    got = derive([*base, rule])
    assert (f"gcp:sa:{A}", "can_access", secret.id) not in got  # denied by name
    assert (f"gcp:sa:{B}", "can_access", secret.id) not in got  # denied as part of public:all
    assert (f"gcp:sa:{C}", "can_access", secret.id) in got  # excepted
    assert (f"gcp:sa:{A}", "can_access", "gcp:project:projects/p") not in got  # nothing else was granted
    owner_edge = got[(f"gcp:sa:{C}", "can_access", "gcp:project:projects/p")]
    assert not any("deny policy" in g for g in owner_edge["grants"])
    # Without the deny the permission is there: the test above can fail.
    assert (f"gcp:sa:{A}", "can_access", secret.id) in derive(base)


def test_a_conditional_deny_is_not_subtracted_but_named() -> None:
    secret = system("secret", "projects/p/secrets/s", "projects/p", [])
    nodes = [*hierarchy([binding("roles/secretmanager.secretAccessor", f"serviceAccount:{A}")]), sa(A), secret,
             deny([f"principal://iam.googleapis.com/projects/-/serviceAccounts/{A}"],
                  ["secretmanager.googleapis.com/*"], condition={"expression": "resource.matchTag('env','prod')"})]
    edge = derive(nodes)[(f"gcp:sa:{A}", "can_access", secret.id)]
    assert any("if resource.matchTag" in g for g in edge["grants"])


def test_impersonation_chains_two_hops_and_inherits_token_creator_from_the_project() -> None:
    nodes = [*hierarchy([binding("roles/iam.serviceAccountTokenCreator", f"serviceAccount:{B}")]),
             sa(A), sa(B, {"bindings": [binding("roles/iam.serviceAccountTokenCreator", f"serviceAccount:{A}")]}), sa(C),
             system("bigquery_dataset", "projects/p/datasets/d", "projects/p",
                    [binding("roles/bigquery.dataEditor", f"serviceAccount:{C}")])]
    got = derive(nodes)
    ab = got[(f"gcp:sa:{A}", "can_assume", f"gcp:sa:{B}")]
    assert ab["permissions"] == ["iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.signJwt"]
    assert ab["via"] == f"roles/iam.serviceAccountTokenCreator on projects/p/serviceAccounts/{B}"
    bc = got[(f"gcp:sa:{B}", "can_assume", f"gcp:sa:{C}")]
    assert "inherited from projects/p" in bc["via"]
    assert (f"gcp:sa:{B}", "can_assume", f"gcp:sa:{B}") not in got  # no self edge
    assert (f"gcp:sa:{A}", "can_assume", f"gcp:sa:{C}") not in got  # the graph walk chains, not the deriver
    assert (f"gcp:sa:{C}", "can_access", "gcp:bigquery_dataset:projects/p/datasets/d") in got


def test_workload_identity_user_lets_the_federated_pool_become_the_service_account() -> None:
    pool = "projects/1/locations/global/workloadIdentityPools/gh"
    principal = Identity(id=f"gcp:principal:principalSet://iam.googleapis.com/{pool}/*", provider="gcp", source="gcp",
                         type="gcp_principal", name="gh", native_id=f"principalSet://iam.googleapis.com/{pool}/*",
                         attrs={"pool": pool})
    provider = Credential(id="gcp:wif_provider:x", provider="gcp", source="gcp", type="gcp_wif_provider", name="x")
    member = f"principalSet://iam.googleapis.com/{pool}/attribute.repository/example/agents"
    nodes = [*hierarchy([]), principal, provider, sa(A, {"bindings": [binding("roles/iam.workloadIdentityUser", member)]})]
    got = derive(nodes, [Edge(src=provider.id, dst=principal.id, kind=EdgeKind.AUTHENTICATES, source="gcp")])
    edge = got[(principal.id, "can_assume", f"gcp:sa:{A}")]
    assert edge["permissions"] == ["iam.serviceAccounts.getAccessToken"] and member in edge["via"]
    # Only tokens of that one repository get it: conditional, and the condition says which.
    assert edge["conditional"] is True
    assert edge["condition_keys"] == ["federated token with attribute.repository/example/agents"]
    whole_pool = [*hierarchy([]), principal, sa(A, {"bindings": [binding("roles/iam.workloadIdentityUser",
                                                                        principal.native_id)]})]
    assert derive(whole_pool)[(principal.id, "can_assume", f"gcp:sa:{A}")]["conditional"] is False


def test_owner_is_admin_and_people_and_groups_are_principals_too() -> None:
    nodes = [*hierarchy([binding("roles/owner", f"serviceAccount:{A}", "user:alice@example.com",
                                 "group:g@example.com", "domain:example.com")]), sa(A)]
    view = SnapshotView.build([*nodes, *roles()], [])
    out = gcp_edges.derive(view)
    got = {(e.src, e.kind.value, e.dst): dict(e.attrs) for e in out.edges}
    edge = got[(f"gcp:sa:{A}", "can_access", "gcp:project:projects/p")]
    assert edge["admin"] is True and edge["level"] == "permissions-management"
    project = "gcp:project:projects/p"
    readers = {k[0] for k in got if k[1] == "can_access" and k[2] == project}
    assert readers == {f"gcp:sa:{A}", "gcp:user:alice@example.com", "gcp:group:g@example.com",
                       "gcp:domain:example.com"}
    people = {n.id: n.type for n in out.nodes}
    assert people == {"gcp:user:alice@example.com": "gcp_user", "gcp:group:g@example.com": "gcp_group",
                      "gcp:domain:example.com": "gcp_domain"}
    # roles/owner's setIamPolicy is an escalation on the project, apart from the access
    assert got[("gcp:user:alice@example.com", "can_escalate", project)]["gains"] == "admin"


def test_an_unreadable_role_still_counts_by_its_name() -> None:
    nodes = [*hierarchy([binding("roles/storage.admin", f"serviceAccount:{A}")]), sa(A),
             system("bucket", "projects/_/buckets/b", "projects/p", [])]
    edge = derive(nodes)[(f"gcp:sa:{A}", "can_access", "gcp:bucket:projects/_/buckets/b")]
    assert edge["level"] == "permissions-management" and "unreadable" in edge["grants"][0]


def test_no_gcp_nodes_no_edges() -> None:
    assert gcp_edges.derive(SnapshotView.build([], [])).edges == []
