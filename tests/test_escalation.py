"""Privilege escalation as its own edge (can_escalate): every technique the issue names fires on
a small estate built for it, and a near-miss beside it (one ingredient missing) does not.
Techniques from pathfinding.cloud, Rhino Security Labs' list and PMapper's edge checkers (AWS),
BloodHound's AZAddSecret and Microsoft's RBAC / Key Vault pages (Azure), Google's actAs and
keys pages (GCP); config/escalation-techniques.yaml names the sources per technique."""

from __future__ import annotations

from typing import Any

import pytest

from agentreach.graph.core import Graph
from agentreach.graph.query import paths_between, reach
from agentreach.model import Credential, Edge, EdgeKind, Identity, Node, Policy, System, Workload, node_id
from agentreach.policy.aws import edges as aws_edges
from agentreach.policy.azure import edges as azure_edges
from agentreach.policy.gcp import edges as gcp_edges
from agentreach.view import SnapshotView

ACCT = "111122223333"
V = "2012-10-17"
ADMIN = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
INSTANCE = f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-0abc"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCT}:function:etl"
NOTEBOOK = f"arn:aws:sagemaker:us-east-1:{ACCT}:notebook-instance/research"


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCT}:{kind}/{name}"


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def doc(*stmts: dict) -> dict:
    return {"Version": V, "Statement": list(stmts)}


class Estate:
    """A one-account AWS snapshot built statement by statement."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []

    def user(self, name: str, *stmts: dict, keys: int = 0, password: bool = False, admin: bool = False) -> str:
        return self._principal("user", name, stmts, admin, keys=keys, password=password)

    def role(self, name: str, *stmts: dict, trust: Any = "account", admin: bool = False,
             profile: bool = False) -> str:
        principal = {"AWS": f"arn:aws:iam::{ACCT}:root"} if trust == "account" else {"Service": trust}
        attrs = {"trust_policy": doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}),
                 "instance_profiles": [f"arn:aws:iam::{ACCT}:instance-profile/{name}"] if profile else []}
        return self._principal("role", name, stmts, admin, **attrs)

    def _principal(self, kind: str, name: str, stmts: tuple[dict, ...], admin: bool, keys: int = 0,
                   password: bool = False, **attrs: Any) -> str:
        pid = node_id("aws", f"iam_{kind}", arn(kind, name))
        inline = [{"name": "p", "document": doc(*stmts)}] if stmts else []
        if admin:
            inline.append({"name": "admin", "document": ADMIN})
        if kind == "user":
            attrs["password_enabled"] = password
        self.nodes.append(Identity(id=pid, provider="aws", source="aws", type=f"aws_iam_{kind}", name=name,
                                   native_id=arn(kind, name), account=ACCT, attrs={"inline_policies": inline, **attrs}))
        for n in range(keys):
            cid = node_id("aws", "access_key", f"AKIA{name.upper()}{n}")
            self.nodes.append(Credential(id=cid, provider="aws", source="aws", type="aws_access_key", name=cid,
                                         native_id=cid, account=ACCT))
            self.edges.append(Edge(src=cid, dst=pid, kind=EdgeKind.AUTHENTICATES, source="aws"))
        return pid

    def group(self, name: str, *members: str, grants: bool = True) -> str:
        gid = node_id("aws", "iam_group", arn("group", name))
        inline = [{"name": "g", "document": doc(allow("s3:ListAllMyBuckets"))}] if grants else []
        self.nodes.append(Identity(id=gid, provider="aws", source="aws", type="aws_iam_group", name=name,
                                   native_id=arn("group", name), account=ACCT, attrs={"inline_policies": inline}))
        self.edges += [Edge(src=m, dst=gid, kind=EdgeKind.MEMBER_OF, source="aws") for m in members]
        return gid

    def policy(self, name: str, holder: str | None, versions: int = 1) -> str:
        pid = node_id("aws", "iam_policy", arn("policy", name))
        self.nodes.append(Policy(id=pid, provider="aws", source="aws", type="aws_iam_policy", name=name,
                                 native_id=arn("policy", name), account=ACCT,
                                 document=doc(allow("s3:ListAllMyBuckets")),
                                 attrs={"aws_managed": False, "default_version": f"v{versions}",
                                        "version_count": versions}))
        if holder:
            self.edges.append(Edge(src=holder, dst=pid, kind=EdgeKind.HAS_POLICY, source="aws", key="managed",
                                   attrs={"attachment": "managed", "policy_arn": arn("policy", name)}))
        return pid

    def workload(self, type_: str, native: str, role: str, **attrs: Any) -> str:
        wid = node_id("aws", type_.removeprefix("aws_"), native)
        self.nodes.append(Workload(id=wid, provider="aws", source="aws", type=type_, name=native.rsplit("/", 1)[-1],
                                   native_id=native, account=ACCT, region="us-east-1", attrs=attrs))
        self.edges.append(Edge(src=wid, dst=role, kind=EdgeKind.RUNS_AS, source="aws"))
        return wid

    def escalations(self) -> dict[tuple[str, str], dict[str, Any]]:
        view = SnapshotView.build(self.nodes, [e.to_dict() for e in self.edges])
        out = aws_edges.derive(view)
        return {(e.src, e.dst): dict(e.attrs) for e in out.edges if e.kind == EdgeKind.CAN_ESCALATE}


def techniques(found: dict[tuple[str, str], dict[str, Any]], src: str, dst: str) -> set[str]:
    return {t["technique"] for t in (found.get((src, dst)) or {}).get("techniques") or ()}


# -- IAM policy editing, on what already applies to the principal -------------------------------

def test_create_policy_version_on_its_own_attached_policy() -> None:
    e = Estate()
    me = e.user("dev", allow("iam:CreatePolicyVersion", arn("policy", "app")))
    e.policy("app", me)
    miss = e.user("dev2", allow("iam:CreatePolicyVersion", arn("policy", "nobodys")))
    e.policy("nobodys", None)
    found = e.escalations()
    assert "iam:CreatePolicyVersion" in techniques(found, me, me)
    assert found[(me, me)]["gains"] == "admin"
    assert (miss, miss) not in found  # a policy attached to nobody gains nothing


def test_set_default_policy_version_needs_another_version() -> None:
    e = Estate()
    me = e.user("dev", allow("iam:SetDefaultPolicyVersion", arn("policy", "versioned")))
    e.policy("versioned", me, versions=3)
    miss = e.user("dev2", allow("iam:SetDefaultPolicyVersion", arn("policy", "single")))
    e.policy("single", miss, versions=1)
    found = e.escalations()
    assert "iam:SetDefaultPolicyVersion" in techniques(found, me, me)
    assert (miss, miss) not in found


@pytest.mark.parametrize("action", ["iam:AttachUserPolicy", "iam:PutUserPolicy"])
def test_editing_its_own_user_policies(action: str) -> None:
    e = Estate()
    me = e.user("dev", allow(action, arn("user", "${aws:username}")))
    miss = e.user("dev2", allow(action, arn("user", "someone-else")))
    e.user("someone-else")
    found = e.escalations()
    assert action in techniques(found, me, me)
    assert not any(src == miss for src, _ in found)


@pytest.mark.parametrize("action", ["iam:AttachGroupPolicy", "iam:PutGroupPolicy"])
def test_editing_a_group_it_is_in(action: str) -> None:
    e = Estate()
    me = e.user("dev", allow(action, arn("group", "devs")))
    miss = e.user("dev2", allow(action, arn("group", "ops")))
    e.group("devs", me, miss)
    e.group("ops")
    found = e.escalations()
    assert action in techniques(found, me, me)
    assert not any(src == miss for src, _ in found)


@pytest.mark.parametrize("action", ["iam:AttachRolePolicy", "iam:PutRolePolicy"])
def test_editing_its_own_role_or_one_it_can_assume(action: str) -> None:
    e = Estate()
    me = e.role("etl", allow(action, arn("role", "etl")))
    hopper = e.user("hopper", allow([action, "sts:AssumeRole"], arn("role", "target")))
    target = e.role("target", allow("s3:GetObject"))
    miss = e.role("etl2", allow(action, arn("role", "ec2-only")))
    e.role("ec2-only", allow("s3:GetObject"), trust="ec2.amazonaws.com")
    found = e.escalations()
    assert action in techniques(found, me, me)
    assert action in techniques(found, hopper, target)
    assert not any(src == miss for src, _ in found)  # a role it cannot become


def test_add_user_to_a_group_that_grants_something() -> None:
    e = Estate()
    me = e.user("dev", allow("iam:AddUserToGroup", arn("group", "admins")))
    miss = e.user("dev2", allow("iam:AddUserToGroup", arn("group", "empty")))
    e.group("admins")
    e.group("empty", grants=False)
    found = e.escalations()
    assert "iam:AddUserToGroup" in techniques(found, me, me)
    assert not any(src == miss for src, _ in found)


def test_update_assume_role_policy_of_a_role_that_holds_something() -> None:
    e = Estate()
    me = e.user("dev", allow("iam:UpdateAssumeRolePolicy", arn("role", "*")))
    admin = e.role("ops-admin", admin=True, trust="ec2.amazonaws.com")
    empty = e.role("empty", trust="ec2.amazonaws.com")
    found = e.escalations()
    assert "iam:UpdateAssumeRolePolicy" in techniques(found, me, admin)
    assert found[(me, admin)]["gains"] == "admin"
    assert (me, empty) not in found


# -- credentials of other principals -----------------------------------------------------------

def test_create_access_key_for_another_user_with_a_free_slot() -> None:
    e = Estate()
    me = e.user("dev", allow("iam:CreateAccessKey", arn("user", "*")))
    one = e.user("bot", keys=1, admin=True)
    full = e.user("bot2", keys=2, admin=True)
    own = e.user("self-service", allow("iam:CreateAccessKey", arn("user", "${aws:username}")))
    found = e.escalations()
    assert "iam:CreateAccessKey" in techniques(found, me, one)
    assert (me, full) not in found  # two keys already: AWS refuses a third
    assert not any(src == own for src, _ in found)  # its own key gains nothing


def test_login_profiles() -> None:
    e = Estate()
    me = e.user("dev", allow(["iam:CreateLoginProfile", "iam:UpdateLoginProfile"], arn("user", "*")))
    no_password = e.user("bot", admin=True)
    with_password = e.user("breakglass", admin=True, password=True)
    found = e.escalations()
    assert techniques(found, me, no_password) == {"iam:CreateLoginProfile"}
    assert techniques(found, me, with_password) == {"iam:UpdateLoginProfile"}


# -- PassRole to compute ----------------------------------------------------------------------------

PASSROLE_CASES = [
    ("lambda.amazonaws.com", ["lambda:CreateFunction", "lambda:InvokeFunction"], ["lambda:CreateFunction"]),
    ("ec2.amazonaws.com", ["ec2:RunInstances"], []),
    ("ecs-tasks.amazonaws.com", ["ecs:RegisterTaskDefinition", "ecs:RunTask"], ["ecs:RegisterTaskDefinition"]),
    ("glue.amazonaws.com", ["glue:CreateDevEndpoint"], ["glue:GetDevEndpoint"]),
    ("cloudformation.amazonaws.com", ["cloudformation:UpdateStack"], ["cloudformation:DescribeStacks"]),
    ("codebuild.amazonaws.com", ["codebuild:CreateProject", "codebuild:StartBuild"], ["codebuild:CreateProject"]),
    ("sagemaker.amazonaws.com", ["sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl"],
     ["sagemaker:CreateNotebookInstance"]),
    ("datapipeline.amazonaws.com", ["datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition",
                                    "datapipeline:ActivatePipeline"],
     ["datapipeline:CreatePipeline", "datapipeline:ActivatePipeline"]),
]


@pytest.mark.parametrize(("service", "actions", "missing_one"), PASSROLE_CASES, ids=[c[0] for c in PASSROLE_CASES])
def test_passrole_to_compute(service: str, actions: list[str], missing_one: list[str]) -> None:
    e = Estate()
    role = e.role("runner", trust=service, admin=True, profile=service.startswith("ec2"))
    me = e.user("dev", allow("iam:PassRole", arn("role", "runner")), allow(actions))
    short = e.user("dev2", allow("iam:PassRole", arn("role", "runner")), *([allow(missing_one)] if missing_one else []))
    other_service = e.user("dev3", allow("iam:PassRole", arn("role", "runner"),
                                         Condition={"StringEquals": {"iam:PassedToService": "nope.amazonaws.com"}}),
                           allow(actions))
    found = e.escalations()
    assert any(t.startswith("iam:PassRole+") for t in techniques(found, me, role)), found.get((me, role))
    assert (short, role) not in found  # one action short
    assert (other_service, role) not in found  # PassRole only to another service


def test_passrole_needs_a_role_the_service_can_assume_and_ec2_an_instance_profile() -> None:
    e = Estate()
    e.role("lambda-runner", trust="lambda.amazonaws.com", admin=True)
    ec2_without_profile = e.role("ec2-runner", trust="ec2.amazonaws.com", admin=True)
    me = e.user("dev", allow("iam:PassRole"), allow(["ec2:RunInstances", "ecs:RegisterTaskDefinition", "ecs:RunTask"]))
    found = e.escalations()
    assert not any(src == me for src, _ in found), found
    assert (me, ec2_without_profile) not in found


def test_passrole_alone_is_neither_admin_nor_an_escalation() -> None:
    e = Estate()
    e.role("runner", trust="lambda.amazonaws.com", admin=True)
    me = e.user("dev", allow("iam:PassRole"))
    view = SnapshotView.build(e.nodes, [x.to_dict() for x in e.edges])
    out = aws_edges.derive(view)
    mine = [x for x in out.edges if x.src == me]
    assert not any(x.kind == EdgeKind.CAN_ESCALATE for x in mine)
    assert not any(x.attrs.get("admin") for x in mine)


# -- compute that already runs as a role ------------------------------------------------------

EXISTING = [
    ("aws_lambda_function", FUNCTION, {}, ["lambda:UpdateFunctionCode"], ["lambda:GetFunction"]),
    ("aws_ec2_instance", INSTANCE, {"instance_profile_arn": "p"}, ["ssm:SendCommand"], ["ssm:DescribeInstanceInformation"]),
    ("aws_ec2_instance", INSTANCE, {"instance_profile_arn": "p"}, ["ssm:StartSession"], ["ssm:DescribeSessions"]),
    ("aws_ec2_instance", INSTANCE, {"instance_profile_arn": "p"}, ["ec2-instance-connect:SendSSHPublicKey"],
     ["ec2:DescribeInstances"]),
    ("aws_sagemaker_notebook_instance", NOTEBOOK, {}, ["sagemaker:CreatePresignedNotebookInstanceUrl"],
     ["sagemaker:DescribeNotebookInstance"]),
]


@pytest.mark.parametrize(("type_", "native", "attrs", "actions", "near"), EXISTING,
                         ids=[c[3][0] for c in EXISTING])
def test_compute_that_runs_as_a_role(type_: str, native: str, attrs: dict, actions: list[str], near: list[str]) -> None:
    e = Estate()
    role = e.role("worker", trust="ec2.amazonaws.com", admin=True)
    e.workload(type_, native, role, **attrs)
    me = e.user("dev", allow(actions))
    miss = e.user("dev2", allow(near))
    found = e.escalations()
    assert "+".join(actions) in techniques(found, me, role)
    assert (miss, role) not in found


def test_no_instance_profile_no_session() -> None:
    e = Estate()
    role = e.role("worker", trust="ec2.amazonaws.com", admin=True)
    e.workload("aws_ec2_instance", INSTANCE, role)  # no instance profile
    me = e.user("dev", allow("ssm:StartSession"))
    assert (me, role) not in e.escalations()


def test_an_admin_gets_no_escalation_edges() -> None:
    e = Estate()
    e.role("runner", trust="lambda.amazonaws.com", admin=True)
    admin = e.user("root-ish", admin=True)
    assert not any(src == admin for src, _ in e.escalations())


# -- the graph never implies an escalation without such an edge -----------------------------------

def _graph(nodes: list[Node], edges: list[Edge]) -> Graph:
    g = Graph()
    for n in nodes:
        g.add_node(n.id, n.kind.value, n.name, type=n.type, account=n.account, provider=n.provider,
                   native_id=n.native_id)
    for x in edges:
        for end in (x.src, x.dst):
            if end not in g.index:
                g.add_node(end, "unknown", end, type="unknown")
        g.add_edge(x.src, x.dst, x.kind.value, dict(x.to_dict()["attrs"]))
    return g


def test_reading_a_function_is_not_running_as_its_role() -> None:
    e = Estate()
    role = e.role("lambda-admin", trust="lambda.amazonaws.com", admin=True)
    fn = e.workload("aws_lambda_function", FUNCTION, role)
    bucket = System(id="aws:s3_bucket:arn:aws:s3:::pii", provider="aws", source="aws", type="aws_s3_bucket",
                    name="pii", native_id="arn:aws:s3:::pii", account=ACCT)
    e.nodes.append(bucket)
    reader = e.user("reader", allow("lambda:GetFunction", FUNCTION))
    editor = e.user("editor", allow("lambda:UpdateFunctionCode", FUNCTION))
    view = SnapshotView.build(e.nodes, [x.to_dict() for x in e.edges])
    derived = aws_edges.derive(view)
    g = _graph([*e.nodes, *derived.nodes], [*e.edges, *derived.edges])
    assert g.out_edges(g.index[reader], "can_access")  # it reads the function …
    assert fn in {g.ids[d] for d, _ in g.out_edges(g.index[reader], "can_access")}
    assert paths_between(g, g.index[reader], g.index[bucket.id]) == []  # … and reaches nothing through it
    assert paths_between(g, g.index[editor], g.index[bucket.id]) == []  # an escalation is not followed …
    through = paths_between(g, g.index[editor], g.index[bucket.id], escalation=True)
    assert through and through[0][0]["edge"] == "can_escalate"  # … unless asked
    plain = {r["name"] for r in reach(g, g.index[editor])}
    assert "pii" not in plain
    escalated = {r["name"]: r for r in reach(g, g.index[editor], escalation=True)}
    assert escalated["pii"]["via_escalation"] is True


# -- Azure ----------------------------------------------------------------------------------------

TENANT = "72f988bf-0000-4000-8000-00000000a1b2"
SUB = "/subscriptions/6b1f3c2e-4d5a-4b7c-9e8f-0a1b2c3d4e5f"
RG = f"{SUB}/resourcegroups/rg"
VAULT = f"{RG}/providers/microsoft.keyvault/vaults/kv"
UAA = {"actions": ["*/read", "Microsoft.Authorization/*"]}
READER = {"actions": ["*/read"]}
KV_CONTRIBUTOR = {"actions": ["Microsoft.KeyVault/*"]}


def azure(*principals: tuple[str, str, dict | None, str], rbac_vault: bool = False,
          extra: list[Any] = ()) -> dict[tuple[str, str], dict[str, Any]]:
    nodes: list[Node] = [
        System(id=f"azure:subscription:{SUB}", provider="azure", source="azure", type="azure_subscription",
               name="sub", native_id=SUB, account="sub"),
        System(id=f"azure:key_vault:{VAULT}", provider="azure", source="azure", type="azure_key_vault", name="kv",
               native_id=VAULT, account="sub", attrs={"resource_type": "Microsoft.KeyVault/vaults",
                                                      "enable_rbac_authorization": rbac_vault})]
    edges: list[Edge] = []
    for name, type_, perms, scope in principals:
        pid = f"azure:{type_.removeprefix('azure_')}:{name}"
        nodes.append(Identity(id=pid, provider="azure", source="azure", type=type_, name=name, native_id=name,
                              account=TENANT))
        if perms:
            rd = f"azure:role_definition:{name}"
            nodes.append(Policy(id=rd, provider="azure", source="azure", type="azure_role_definition", name=name,
                                document={"roleName": name, "permissions": [perms]}))
            edges.append(Edge(src=pid, dst=rd, kind=EdgeKind.HAS_POLICY, source="azure", key=name,
                              attrs={"attachment": "role_assignment", "scope": scope}))
    view = SnapshotView.build(nodes, [x.to_dict() for x in [*edges, *extra]])
    return {(x.src, x.dst): dict(x.attrs) for x in azure_edges.derive(view).edges if x.kind == EdgeKind.CAN_ESCALATE}


def test_azure_role_assignment_write_is_an_escalation_reader_is_not() -> None:
    found = azure(("uaa", "azure_sp", UAA, SUB), ("reader", "azure_sp", READER, SUB))
    assert techniques(found, "azure:sp:uaa", f"azure:subscription:{SUB}") == {"roleAssignments/write"}
    assert not any(src == "azure:sp:reader" for src, _ in found)


def test_azure_writing_an_access_policy_vault_is_an_escalation_not_on_an_rbac_vault() -> None:
    found = azure(("kvc", "azure_sp", KV_CONTRIBUTOR, RG))
    assert techniques(found, "azure:sp:kvc", f"azure:key_vault:{VAULT}") == {"vaults/accessPolicies/write"}
    assert azure(("kvc", "azure_sp", KV_CONTRIBUTOR, RG), rbac_vault=True) == {}


def test_azure_owner_can_add_a_credential_but_not_to_a_managed_identity() -> None:
    owns_app = Edge(src="azure:sp:ci", dst="azure:app:payments", kind=EdgeKind.OWNS, source="azure")
    owns_mi = Edge(src="azure:sp:ci", dst="azure:managed_identity:mi", kind=EdgeKind.OWNS, source="azure")
    found = azure(("ci", "azure_sp", None, ""), ("payments", "azure_app", None, ""),
                  ("mi", "azure_managed_identity", None, ""), extra=[owns_app, owns_mi])
    assert techniques(found, "azure:sp:ci", "azure:app:payments") == {"owner-can-add-credential"}
    assert ("azure:sp:ci", "azure:managed_identity:mi") not in found


# -- GCP ------------------------------------------------------------------------------------------

GCP_ROLES = {
    "roles/iam.serviceAccountUser": ["iam.serviceAccounts.actAs", "iam.serviceAccounts.get"],
    "roles/iam.serviceAccountKeyAdmin": ["iam.serviceAccountKeys.create", "iam.serviceAccountKeys.list"],
    "roles/iam.serviceAccountViewer": ["iam.serviceAccountKeys.list", "iam.serviceAccounts.get"],
    "roles/compute.instanceAdmin.v1": ["compute.instances.create", "compute.instances.setServiceAccount"],
    "roles/resourcemanager.projectIamAdmin": ["resourcemanager.projects.setIamPolicy",
                                              "resourcemanager.projects.getIamPolicy"],
    "roles/iam.securityReviewer": ["resourcemanager.projects.getIamPolicy"],
}


def email(name: str) -> str:
    return f"{name}@p.iam.gserviceaccount.com"


def gcp(project: list[tuple[str, str]], on_target: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    def binding(role: str, *names: str) -> dict:
        return {"role": role, "members": [f"serviceAccount:{email(n)}" for n in names]}

    names = {n for _, n in project + on_target} | {"target"}
    nodes: list[Node] = [System(id="gcp:project:p", provider="gcp", source="gcp", type="gcp_project", name="p",
                                native_id="projects/p", account="p",
                                resource_policy={"bindings": [binding(r, n) for r, n in project]})]
    for n in sorted(names):
        attrs: dict[str, Any] = {"project": "p"}
        if n == "target":
            attrs["resource_policy"] = {"bindings": [binding(r, who) for r, who in on_target]}
        nodes.append(Identity(id=f"gcp:sa:{email(n)}", provider="gcp", source="gcp", type="gcp_sa", name=n,
                              native_id=email(n), account="p", attrs=attrs))
    nodes += [Policy(id=f"gcp:role:{r}", provider="gcp", source="gcp", type="gcp_role", name=r, native_id=r,
                     document={"includedPermissions": p}) for r, p in GCP_ROLES.items()]
    out = gcp_edges.derive(SnapshotView.build(nodes, []))
    return {(x.src, x.dst): dict(x.attrs) for x in out.edges if x.kind == EdgeKind.CAN_ESCALATE}


def test_gcp_act_as_with_compute_is_an_escalation_act_as_alone_is_nothing() -> None:
    found = gcp([("roles/compute.instanceAdmin.v1", "vm-maker")],
                [("roles/iam.serviceAccountUser", "vm-maker"), ("roles/iam.serviceAccountUser", "user-only")])
    target = f"gcp:sa:{email('target')}"
    assert any(t.startswith("iam.serviceAccounts.actAs+compute.instances")
               for t in techniques(found, f"gcp:sa:{email('vm-maker')}", target))
    assert not any(src == f"gcp:sa:{email('user-only')}" for src, _ in found)


def test_gcp_key_creation_is_an_escalation_listing_keys_is_not() -> None:
    found = gcp([], [("roles/iam.serviceAccountKeyAdmin", "keymaker"), ("roles/iam.serviceAccountViewer", "viewer")])
    target = f"gcp:sa:{email('target')}"
    assert techniques(found, f"gcp:sa:{email('keymaker')}", target) == {"iam.serviceAccountKeys.create"}
    assert not any(src == f"gcp:sa:{email('viewer')}" for src, _ in found)


def test_gcp_set_iam_policy_is_an_escalation_get_is_not() -> None:
    found = gcp([("roles/resourcemanager.projectIamAdmin", "iam-admin"), ("roles/iam.securityReviewer", "auditor")], [])
    assert techniques(found, f"gcp:sa:{email('iam-admin')}", "gcp:project:p") == {
        "resourcemanager.projects.setIamPolicy"}
    assert not any(src == f"gcp:sa:{email('auditor')}" for src, _ in found)
