"""AWS cases as the AWS connector sees them: API-shaped answers (GAAD role and user
details, credential report rows, ListFunctions items with their resource policy, ECS task
definitions, Bedrock agents, AgentCore runtimes and gateways, EC2 instances) run through
the connector's own pure transforms, so the records are exactly what a scan would emit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from agentreach_connectors.aws import apprunner, bedrock, ec2, ecs, eks, functions, iam

from agentreach.classify.envvalues import readable_values
from agentreach.model import Record

from .cases import Case, CaseError, check_record_keys, env_names, env_values

READ = frozenset({"policies", "roles", "users", "lambdas", "ecs_tasks", "bedrock_agents", "agentcore_runtimes",
                  "agentcore_gateways", "ec2_instances", "eks_pod_identity_associations", "apprunner_services"})
UNREAD: frozenset[str] = frozenset()

ACCOUNT = "210987654321"
REGION = "us-east-1"
T0 = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)


def expand(value: Any) -> Any:
    """``{account}`` / ``{region}`` in any string of a spec: sources write them as
    ``${AWS::AccountId}``, ``{account_id}`` ...; the benchmark names one account."""
    if isinstance(value, str):
        return value.replace("{account}", ACCOUNT).replace("{region}", REGION)
    if isinstance(value, list):
        return [expand(v) for v in value]
    if isinstance(value, dict):
        return {k: expand(v) for k, v in value.items()}
    return value


def _digits(seed: str, n: int, alphabet: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") -> str:
    raw = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in raw)[:n]


def role_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:role{path}{name}"


@dataclass
class AwsEstate:
    """Everything the AWS cases define, gathered into one account's API answers."""

    managed: Mapping[str, Mapping[str, Any]]
    raw: iam.IamRaw = field(default_factory=lambda: iam.IamRaw(account=ACCOUNT))
    role_paths: dict[str, str] = field(default_factory=dict)
    lambdas: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    agents: list[dict[str, Any]] = field(default_factory=list)
    agentcore: list[dict[str, Any]] = field(default_factory=list)
    instances: list[dict[str, Any]] = field(default_factory=list)
    pod_identities: list[dict[str, Any]] = field(default_factory=list)
    apprunner: list[dict[str, Any]] = field(default_factory=list)
    profile_roles: dict[str, list[str]] = field(default_factory=dict)
    policy_arns: set[str] = field(default_factory=set)

    def add(self, case: Case) -> None:
        check_record_keys(case, case.records, READ, UNREAD)
        rec = expand(case.records)
        for pol in rec.get("policies", []):
            arn = f"arn:aws:iam::{ACCOUNT}:policy/{pol['name']}"
            self._policy(arn, pol["name"], pol.get("document") or {})
        for role in rec.get("roles", []):
            self._role(role, case)
        for user in rec.get("users", []):
            self._user(user)
        for fn in rec.get("lambdas", []):
            self._lambda(fn)
        for svc in rec.get("apprunner_services", []):
            # DescribeService's Service (roles resolved to ARNs in records()), reduced as the
            # connector's get step reduces it
            sid = _digits(svc["name"], 32, "0123456789abcdef")
            self.apprunner.append({
                "ServiceName": svc["name"], "ServiceId": sid, "CreatedAt": T0, "Status": "RUNNING",
                "ServiceArn": f"arn:aws:apprunner:{REGION}:{ACCOUNT}:service/{svc['name']}/{sid}",
                "InstanceConfiguration": {"InstanceRoleArn": svc.get("instance_role")},
                "SourceConfiguration": {
                    **({"AuthenticationConfiguration": {"AccessRoleArn": svc["access_role"]}}
                       if svc.get("access_role") else {}),
                    "ImageRepository": {"ImageConfiguration": {
                        "RuntimeEnvironmentVariables": {n: env_values(svc.get("env")).get(n, "")
                                                        for n in env_names(svc.get("env"))}}}},
                "Tags": [{"Key": k, "Value": v} for k, v in (svc.get("tags") or {}).items()]})
        for assoc in rec.get("eks_pod_identity_associations", []):
            # DescribePodIdentityAssociation's "association", as the connector keeps it
            aid = "a-" + _digits(f"{assoc['cluster']}/{assoc['namespace']}/{assoc['service_account']}", 17,
                                 "abcdefghijklmnopqrstuvwxyz0123456789")
            self.pod_identities.append({
                "clusterName": assoc["cluster"], "namespace": assoc["namespace"],
                "serviceAccount": assoc["service_account"], "roleArn": assoc["role"],  # an ARN in records()
                "associationId": aid, "createdAt": T0, "modifiedAt": T0, "tags": assoc.get("tags", {}),
                "associationArn": f"arn:aws:eks:{REGION}:{ACCOUNT}:podidentityassociation/{assoc['cluster']}/{aid}"})
        for td in rec.get("ecs_tasks", []):
            self._task(td)
        for agent in rec.get("bedrock_agents", []):
            aid = _digits(agent["name"], 10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            self.agents.append({"agentId": aid, "agentArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:agent/{aid}",
                                "agentName": agent["name"], "agentStatus": "PREPARED",
                                "agentResourceRoleArn": self._arn(agent["role"]),
                                "foundationModel": agent.get("foundation_model"),
                                "description": agent.get("description"), "tags": agent.get("tags") or {},
                                "createdAt": T0})
        for rt in rec.get("agentcore_runtimes", []):
            rid = f"{rt['name']}-{_digits(rt['name'], 10, 'abcdefghijklmnopqrstuvwxyz0123456789')}"
            self.agentcore.append({"_kind": "runtime", "agentRuntimeId": rid, "agentRuntimeName": rt["name"],
                                   "agentRuntimeArn": f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:runtime/{rid}",
                                   "roleArn": self._arn(rt["role"]), "status": "READY",
                                   "environmentNames": env_names(rt.get("env")),
                                   "environmentValues": readable_values(env_values(rt.get("env"))),
                                   "description": rt.get("description"), "tags": rt.get("tags") or {},
                                   "protocolConfiguration": {"serverProtocol": rt.get("protocol", "HTTP")}})
        for gw in rec.get("agentcore_gateways", []):
            gid = f"{gw['name']}-{_digits(gw['name'], 10, 'abcdefghijklmnopqrstuvwxyz0123456789')}"
            self.agentcore.append({"_kind": "gateway", "gatewayId": gid, "name": gw["name"],
                                   "gatewayArn": f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:gateway/{gid}",
                                   "roleArn": self._arn(gw["role"]), "status": "READY",
                                   "authorizerType": gw.get("authorizer", "CUSTOM_JWT"), "protocolType": "MCP",
                                   "description": gw.get("description"), "tags": gw.get("tags") or {}})
            # gw["targets"] (ListGatewayTargets) is what the source defines; the connector reads no targets
        for inst in rec.get("ec2_instances", []):
            iid = "i-" + _digits(inst["name"], 17, "0123456789abcdef")
            profile = f"arn:aws:iam::{ACCOUNT}:instance-profile/{inst.get('profile', inst['role'])}"
            self.profile_roles.setdefault(profile, []).append(self._arn(inst["role"]))
            tags = [{"Key": "Name", "Value": inst["name"]}] + [{"Key": k, "Value": v}
                                                               for k, v in (inst.get("tags") or {}).items()]
            self.instances.append({"InstanceId": iid, "IamInstanceProfile": {"Arn": profile}, "Tags": tags,
                                   "State": {"Name": "running"}, "ImageId": inst.get("image", "ami-0abcdef1234567890"),
                                   "InstanceType": inst.get("type", "t3.medium"), "LaunchTime": T0})

    def _arn(self, role: str) -> str:
        return role if role.startswith("arn:") else role_arn(role, self.role_paths.get(role, "/"))

    def _policy(self, arn: str, name: str, document: Mapping[str, Any]) -> None:
        if arn in self.policy_arns:
            return
        self.policy_arns.add(arn)
        self.raw.policies.append({"PolicyName": name, "Arn": arn, "Path": "/", "AttachmentCount": 1,
                                  "DefaultVersionId": "v1", "CreateDate": T0, "PolicyVersionList": [
                                      {"Document": json.dumps(document), "IsDefaultVersion": True,
                                       "VersionId": "v1"}]})

    def _attached(self, names: Iterable[str]) -> list[dict[str, str]]:
        """Managed policies by name or ARN. An AWS-managed one is stored with the document
        AWS publishes for it (reference/aws_managed_policies.yaml) where we have it."""
        out = []
        for name in names:
            if name.startswith("arn:"):
                arn = name
            elif name in self.managed:
                arn = self.managed[name]["arn"]
            else:
                arn = f"arn:aws:iam::aws:policy/{name}"
            short = arn.rsplit("/", 1)[-1]
            if short in self.managed and self.managed[short].get("document"):
                self._policy(arn, short, self.managed[short]["document"])
            out.append({"PolicyName": short, "PolicyArn": arn})
        return out

    def _role(self, role: Mapping[str, Any], case: Case) -> None:
        path = role.get("path", "/")
        self.role_paths[role["name"]] = path
        arn = role_arn(role["name"], path)
        if "trust" not in role:
            raise CaseError(f"{case.file}: case {case.id}: role {role['name']} has no trust policy")
        detail = {"RoleName": role["name"], "Arn": arn, "Path": path, "RoleId": "AROA" + _digits(arn, 17),
                  "CreateDate": T0, "AssumeRolePolicyDocument": json.dumps(role["trust"]),
                  "RolePolicyList": [{"PolicyName": k, "PolicyDocument": json.dumps(v)}
                                     for k, v in (role.get("inline") or {}).items()],
                  "AttachedManagedPolicies": self._attached(role.get("managed", [])),
                  "Tags": [{"Key": k, "Value": str(v)} for k, v in (role.get("tags") or {}).items()],
                  "InstanceProfileList": [], "MaxSessionDuration": 3600}
        if role.get("description"):
            detail["Description"] = role["description"]
        self.raw.roles.append(detail)

    def _user(self, user: Mapping[str, Any]) -> None:
        arn = f"arn:aws:iam::{ACCOUNT}:user/{user['name']}"
        self.raw.users.append({
            "UserName": user["name"], "Arn": arn, "UserId": "AIDA" + _digits(arn, 17), "Path": "/",
            "CreateDate": T0, "GroupList": [], "AttachedManagedPolicies": self._attached(user.get("managed", [])),
            "UserPolicyList": [{"PolicyName": k, "PolicyDocument": json.dumps(v)}
                               for k, v in (user.get("inline") or {}).items()],
            "Tags": [{"Key": k, "Value": str(v)} for k, v in (user.get("tags") or {}).items()]})
        keys = int(user.get("access_keys", 0))
        console = bool(user.get("console", False))
        row = {"user": user["name"], "arn": arn, "user_creation_time": T0.isoformat(),
               "password_enabled": "true" if console else "false",
               "password_last_used": "2025-05-20T08:00:00+00:00" if console else "N/A",
               "password_last_changed": T0.isoformat() if console else "N/A", "password_next_rotation": "N/A",
               "mfa_active": "true" if user.get("mfa") else "false"}
        created = []
        for slot in (1, 2):
            present = slot <= keys
            when = T0 + dt.timedelta(days=slot)
            row.update({f"access_key_{slot}_active": "true" if present else "false",
                        f"access_key_{slot}_last_rotated": when.isoformat() if present else "N/A",
                        f"access_key_{slot}_last_used_date": "N/A", f"access_key_{slot}_last_used_region": "N/A",
                        f"access_key_{slot}_last_used_service": "N/A"})
            if present:
                created.append({"AccessKeyId": "AKIA" + _digits(f"{arn}#{slot}", 16), "Status": "Active",
                                "CreateDate": when})
        self.raw.report = (self.raw.report or []) + [row]
        if created:
            self.raw.access_keys[user["name"]] = created

    def _lambda(self, fn: Mapping[str, Any]) -> None:
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn['name']}"
        policy = fn.get("resource_policy")
        if policy is None and fn.get("permissions"):
            policy = {"Version": "2012-10-17", "Id": "default",
                      "Statement": [_permission(p, arn, i) for i, p in enumerate(fn["permissions"])]}
        self.lambdas.append({
            "FunctionName": fn["name"], "FunctionArn": arn, "Role": self._arn(fn["role"]),
            "Runtime": fn.get("runtime", "python3.12"), "Handler": fn.get("handler", "index.lambda_handler"),
            "Description": fn.get("description", ""), "PackageType": fn.get("package_type", "Zip"),
            "LastModified": T0.isoformat(), "EnvironmentNames": env_names(fn.get("env")),
            "EnvironmentValues": readable_values(env_values(fn.get("env"))),
            "Policy": json.dumps(policy) if policy else None, "Tags": fn.get("tags") or {}})

    def _task(self, td: Mapping[str, Any]) -> None:
        rev = int(td.get("revision", 1))
        self.tasks.append({
            "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{td['family']}:{rev}",
            "family": td["family"], "revision": rev, "registeredAt": T0,
            "taskRoleArn": self._arn(td["task_role"]) if td.get("task_role") else None,
            "executionRoleArn": self._arn(td["execution_role"]) if td.get("execution_role") else None,
            "containerDefinitions": [{"name": c["name"], "image": c.get("image"),
                                      "env_names": env_names(c.get("env")),
                                      "env_values": readable_values(env_values(c.get("env"))),
                                      "secret_refs": [{"name": s, "value_from":
                                                       f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{s}"}
                                                      for s in c.get("secrets", [])]}
                                     for c in td.get("containers", [])],
            "tags": [{"key": k, "value": v} for k, v in (td.get("tags") or {}).items()]})

    def records(self) -> list[Record]:
        for inst_profile, roles in self.profile_roles.items():
            for detail in self.raw.roles:
                if detail["Arn"] in roles:
                    detail["InstanceProfileList"].append({"Arn": inst_profile})
        out: list[Record] = list(iam.transform(self.raw, T0))
        out += functions.transform(self.lambdas, ACCOUNT, REGION)
        out += ecs.transform(self.tasks, ACCOUNT, REGION)
        out += apprunner.transform([self._apprunner_view(s) for s in self.apprunner], ACCOUNT, REGION)
        out += eks.transform([{**a, "roleArn": role_arn(a["roleArn"], self.role_paths.get(a["roleArn"], "/"))}
                              for a in self.pod_identities], ACCOUNT, REGION)
        out += bedrock.transform_agents(self.agents, ACCOUNT, REGION)
        out += bedrock.transform_agentcore(self.agentcore, ACCOUNT, REGION)
        out += ec2.transform(self.instances, ACCOUNT, REGION, self.profile_roles)
        return out

    def _apprunner_view(self, svc: dict[str, Any]) -> dict[str, Any]:
        resolved = dict(svc, InstanceConfiguration={"InstanceRoleArn": self._arn(
            svc["InstanceConfiguration"]["InstanceRoleArn"])} if svc["InstanceConfiguration"]["InstanceRoleArn"]
            else {})
        auth = svc["SourceConfiguration"].get("AuthenticationConfiguration")
        if auth:
            resolved["SourceConfiguration"] = {**svc["SourceConfiguration"], "AuthenticationConfiguration": {
                "AccessRoleArn": self._arn(auth["AccessRoleArn"])}}
        return {**apprunner.service_view(resolved), "Tags": svc["Tags"]}

    def subject_id(self, case: Case) -> str:
        kind, _, name = case.subject.partition(":")
        if kind == "role":
            return iam.identity_id(self._arn(name), "iam_role")
        if kind == "user":
            return iam.identity_id(f"arn:aws:iam::{ACCOUNT}:user/{name}", "iam_user")
        raise CaseError(f"{case.file}: case {case.id}: subject {case.subject!r} is not role:NAME or user:NAME")


def _permission(p: Mapping[str, Any], fn_arn: str, index: int) -> dict[str, Any]:
    """A ``lambda:AddPermission`` as Lambda writes it into the function's policy."""
    principal = p["principal"]
    stmt: dict[str, Any] = {
        "Sid": p.get("sid", f"statement-{index}"), "Effect": "Allow",
        "Principal": {"Service": principal} if principal.endswith(".amazonaws.com") else {"AWS": principal},
        "Action": p.get("action", "lambda:InvokeFunction"), "Resource": fn_arn}
    cond: dict[str, Any] = {}
    if p.get("source_account"):
        cond["StringEquals"] = {"AWS:SourceAccount": p["source_account"]}
    if p.get("source_arn"):
        cond["ArnLike"] = {"AWS:SourceArn": p["source_arn"]}
    if cond:
        stmt["Condition"] = cond
    return stmt
