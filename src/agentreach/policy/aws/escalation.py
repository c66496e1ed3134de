"""AWS privilege escalation as its own edge kind: ``can_escalate`` from a principal to what it
can take over, with the technique and the statements behind each step.

The techniques are the published catalogues' (pathfinding.cloud, Rhino Security Labs' list,
PMapper's edge checkers; config/escalation-techniques.yaml for those that go through compute):

- IAM policy editing of what already applies to the principal: ``iam:Put/AttachUserPolicy`` on
  itself, ``Put/AttachGroupPolicy`` on a group it is in, ``Put/AttachRolePolicy`` on itself or a
  role it can assume, ``iam:CreatePolicyVersion`` and ``iam:SetDefaultPolicyVersion`` (when the
  policy has another version) on a customer managed policy attached to it, ``iam:AddUserToGroup``
  to a group that grants something; the target is the principal itself (it gains anything).
- ``iam:UpdateAssumeRolePolicy`` on a role: it can name itself in the trust policy.
- Credentials of another user: ``iam:CreateAccessKey`` (fewer than two keys),
  ``iam:CreateLoginProfile`` (no password yet), ``iam:UpdateLoginProfile`` (a password).
- ``iam:PassRole`` (evaluated with ``iam:PassedToService``) to a service the role trusts, with
  the actions that launch compute there (EC2 needs an instance profile). PassRole alone is
  nothing: it launches nothing.
- Compute that already runs as a role: ``lambda:UpdateFunctionCode``, ``ssm:SendCommand`` /
  ``ssm:StartSession`` and EC2 Instance Connect on an instance with a profile, a presigned URL
  to a SageMaker notebook.

What a technique gains must be something: a role or user without any Allow is no target. A
principal that already holds everything gets no escalation edges (there is nothing to gain).
Each step is asked of the evaluator, so boundaries, SCPs, denies and conditions count; a step
allowed only under a condition makes the technique conditional with its keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterator, Mapping, Sequence

import yaml

from ...config import ConfigError, shipped
from ...graph.derive import EdgeChecker
from ...graph.grant import Escalation, Technique
from ...model import Credential, Edge, Identity, Policy, Workload
from ...view import SnapshotView
from ..context import RequestContext
from .evaluate import AwsEvaluator
from .model import Access, Principal, Resource
from .statements import trusted_services

SOURCE = "policy:aws"
SELF_USER = ("iam:PutUserPolicy", "iam:AttachUserPolicy")
SELF_ROLE = ("iam:PutRolePolicy", "iam:AttachRolePolicy")
SELF_GROUP = ("iam:PutGroupPolicy", "iam:AttachGroupPolicy")
IAM_SERVICES = ("iam", "sts")


@dataclass(frozen=True)
class PassRoleTechnique:
    id: str
    service: str
    any_of: tuple[tuple[str, ...], ...]
    needs: str | None = None


@dataclass(frozen=True)
class ExistingTechnique:
    id: str
    workload: str
    actions: tuple[str, ...]
    also: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def techniques() -> tuple[tuple[PassRoleTechnique, ...], tuple[ExistingTechnique, ...]]:
    """config/escalation-techniques.yaml's AWS part, checked once."""
    data = yaml.safe_load(shipped("escalation-techniques.yaml")) or {}
    aws = data.get("aws") or {}
    passrole, existing = [], []
    for i, item in enumerate(aws.get("passrole") or []):
        try:
            any_of = tuple(tuple(str(a) for a in s) for s in item["any_of"])
            passrole.append(PassRoleTechnique(str(item["id"]), str(item["service"]), any_of, item.get("needs")))
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"config/escalation-techniques.yaml: aws.passrole entry {i + 1}: missing {exc}") from None
    for i, item in enumerate(aws.get("existing") or []):
        try:
            existing.append(ExistingTechnique(str(item["id"]), str(item["workload"]),
                                              tuple(str(a) for a in item["actions"]),
                                              tuple(str(a) for a in item.get("also") or ())))
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"config/escalation-techniques.yaml: aws.existing entry {i + 1}: missing {exc}") from None
    return tuple(passrole), tuple(existing)


@dataclass
class Step:
    """Some actions allowed on some resources: the statements and any condition keys."""

    grants: list[str] = field(default_factory=list)
    conditional: bool = False
    keys: set[str] = field(default_factory=set)

    def add(self, access: Access, actions: Sequence[str]) -> None:
        self.grants += [g.text for g in access.grants]
        if any(a in access.conditional_actions for a in actions):
            self.conditional = True
            self.keys |= set(access.condition_keys)

    def technique(self, name: str, via: str | None) -> Technique:
        return Technique(technique=name, grants=tuple(dict.fromkeys(self.grants)), via=via,
                         conditional=self.conditional, condition_keys=tuple(sorted(self.keys)))


@dataclass
class Context:
    """What the escalation checkers read: the evaluator, the principals, and the snapshot's
    users, roles, groups, attached customer policies and workloads."""

    ev: AwsEvaluator
    view: SnapshotView
    principals: Mapping[str, Principal]  # node id -> Principal (users and roles)
    by_service: Mapping[str, set[str]]  # service prefix -> ids of principals whose policies name it
    everything: set[str]  # ids whose policies name every service
    only: frozenset[str] | None = None  # ask about these principals only (query-time re-derivation)

    def mentions(self, pid: str, *services: str) -> bool:
        return pid in self.everything or any(pid in self.by_service.get(s, ()) for s in services)

    def node(self, nid: str) -> Any:
        return self.view.nodes.get(nid)

    def edges(self, nid: str, kind: str) -> list[Mapping[str, Any]]:
        return [e for e in self.view.out_edges.get(nid, ()) if e["kind"] == kind]

    def step(self, pid: str, actions: Sequence[str], arns: Sequence[str], step: Step | None = None,
             request: RequestContext | None = None, policy: Any = None) -> Step | None:
        """All ``actions`` allowed on every one of ``arns`` (an ARN, a pattern for a new
        resource, or ``*``), added to ``step``; None when one is not."""
        principal = self.principals[pid]
        step = step or Step()
        for arn in arns:
            got = self.ev.allows(principal, actions, Resource(arn, principal.account if arn == "*" else
                                                              _account(arn, principal.account), policy), request)
            if got is None or not set(actions) <= set(got.actions):
                return None
            step.add(got, actions)
        return step

    def action_step(self, pid: str, actions: Sequence[str], step: Step | None = None) -> Step | None:
        """Each action allowed on the resources a new one of it would be (catalogue templates)."""
        principal = self.principals[pid]
        step = step or Step()
        for action in actions:
            arns = self.ev.catalogue.new_resource_arns(action, principal.account) or ("*",)
            if self.step(pid, (action,), arns, step) is None:
                return None
        return step


def _account(arn: str, default: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4] and "*" not in parts[4] else default


def _escalation(step: Step, name: str, via: str | None, gains: str) -> Escalation:
    return Escalation(techniques=(step.technique(name, via),), gains=gains)


class _Checker(EdgeChecker[Context]):
    """Common to the AWS escalation checkers: who is worth asking about."""

    def askers(self, ctx: Context, *services: str) -> Iterator[str]:
        for pid, principal in ctx.principals.items():
            if ctx.only is not None and pid not in ctx.only:
                continue
            if ctx.mentions(pid, *services) and not ctx.ev.holds_everything(principal):
                yield pid

    def gains(self, ctx: Context, target: str) -> str | None:
        """What taking over ``target`` gains, None when nothing."""
        principal = ctx.principals.get(target)
        if principal is None or not ctx.ev.grants_anything(principal):
            return None
        return "admin" if ctx.ev.holds_everything(principal) else "the target's permissions"


class PolicyEditChecker(_Checker):
    finds = "identity -can_escalate-> itself, by editing a policy that applies to it (or adding itself to a group)"

    def return_edges(self, ctx: Context) -> Iterator[Edge]:
        for pid in self.askers(ctx, "iam"):
            principal = ctx.principals[pid]
            node = ctx.node(pid)
            out: list[Technique] = []
            own = SELF_USER if node.type == "aws_iam_user" else SELF_ROLE
            for action in own:
                s = ctx.step(pid, (action,), (principal.arn,))
                if s:
                    out.append(s.technique(action, f"its own {node.type.removeprefix('aws_iam_')} {node.name}"))
            groups = [e["dst"] for e in ctx.edges(pid, "member_of")]
            for gid in groups:
                group = ctx.node(gid)
                if group is None or not group.native_id:
                    continue
                for action in SELF_GROUP:
                    s = ctx.step(pid, (action,), (group.native_id,))
                    if s:
                        out.append(s.technique(action, f"group {group.name}, which it is in"))
            for pol, through in self._customer_policies(ctx, pid, groups):
                s = ctx.step(pid, ("iam:CreatePolicyVersion",), (pol.native_id,))
                if s:
                    out.append(s.technique("iam:CreatePolicyVersion", f"policy {pol.name}, attached to {through}"))
                if _has_other_versions(pol):
                    s = ctx.step(pid, ("iam:SetDefaultPolicyVersion",), (pol.native_id,))
                    if s:
                        out.append(s.technique("iam:SetDefaultPolicyVersion",
                                               f"policy {pol.name} (attached to {through}), which has other versions"))
            if node.type == "aws_iam_user":
                out += self._add_to_group(ctx, pid, set(groups))
            if out:
                yield Escalation(techniques=tuple(out), gains="admin").edge(pid, pid, SOURCE)

    @staticmethod
    def _customer_policies(ctx: Context, pid: str, groups: list[str]) -> Iterator[tuple[Policy, str]]:
        seen: set[str] = set()
        for holder in (pid, *groups):
            through = "itself" if holder == pid else f"group {ctx.view.name(holder)}"
            for e in ctx.edges(holder, "has_policy"):
                pol = ctx.node(e["dst"])
                managed = (e.get("attrs") or {}).get("attachment") == "managed"
                if not isinstance(pol, Policy) or pol.id in seen or not managed:
                    continue
                if pol.attrs.get("aws_managed") or not pol.native_id or ":aws:policy/" in pol.native_id:
                    continue  # AWS managed policies cannot be edited
                seen.add(pol.id)
                yield pol, through

    def _add_to_group(self, ctx: Context, pid: str, mine: set[str]) -> list[Technique]:
        out = []
        for node in ctx.view.nodes.values():
            if not isinstance(node, Identity) or node.type != "aws_iam_group" or node.id in mine or not node.native_id:
                continue
            if node.account and node.account != ctx.principals[pid].account:
                continue
            if not _group_grants(ctx, node):
                continue
            s = ctx.step(pid, ("iam:AddUserToGroup",), (node.native_id,))
            if s:
                out.append(s.technique("iam:AddUserToGroup", f"group {node.name}"))
        return out


def _has_other_versions(pol: Policy) -> bool:
    count = pol.attrs.get("version_count")
    if isinstance(count, int):
        return count > 1
    version = str(pol.attrs.get("default_version") or "v1").lstrip("vV")
    return version.isdigit() and int(version) > 1


def _group_grants(ctx: Context, group: Identity) -> bool:
    """The group's own policies allow something (joining it gains that)."""
    docs = [p.get("document") or {} for p in group.attrs.get("inline_policies") or []]
    for e in ctx.edges(group.id, "has_policy"):
        pol = ctx.node(e["dst"])
        if isinstance(pol, Policy):
            docs.append(pol.document)
    for doc in docs:
        stmts = doc.get("Statement") if isinstance(doc, Mapping) else None
        for stmt in [stmts] if isinstance(stmts, Mapping) else (stmts or []):
            if isinstance(stmt, Mapping) and stmt.get("Effect") == "Allow":
                return True
    return False


class TargetChecker(_Checker):
    """Techniques aimed at another principal: its trust policy, its credentials, its role
    through compute."""

    finds = ("identity -can_escalate-> role or user: UpdateAssumeRolePolicy, CreateAccessKey, "
             "Create/UpdateLoginProfile, PassRole to compute, Put/AttachRolePolicy on a role it can assume, "
             "compute that runs as a role")

    def return_edges(self, ctx: Context) -> Iterator[Edge]:
        roles = [n for n in ctx.view.nodes.values() if isinstance(n, Identity) and n.type == "aws_iam_role"
                 and n.id in ctx.principals]
        users = [n for n in ctx.view.nodes.values() if isinstance(n, Identity) and n.type == "aws_iam_user"
                 and n.id in ctx.principals]
        gains = {n.id: self.gains(ctx, n.id) for n in roles + users}
        passrole, existing = techniques()
        workloads = self._workloads(ctx)
        for pid in self.askers(ctx, "iam", "lambda", "ssm", "ec2-instance-connect", "sagemaker"):
            principal = ctx.principals[pid]
            found: dict[str, list[Technique]] = {}
            if ctx.mentions(pid, "iam"):
                for role in roles:
                    if role.id == pid or not gains[role.id] or role.account != principal.account:
                        continue
                    found.setdefault(role.id, []).extend(self._on_role(ctx, pid, role, passrole))
                for user in users:
                    if user.id == pid or not gains[user.id] or user.account != principal.account:
                        continue
                    found.setdefault(user.id, []).extend(self._on_user(ctx, pid, user))
            for tech in existing:
                for work, role_id in workloads.get(tech.workload, ()):
                    if role_id == pid or not gains.get(role_id):
                        continue
                    arns = (work.native_id or "", *(a.format(region=work.region or "*") for a in tech.also))
                    s = ctx.step(pid, tech.actions, arns, policy=(work.attrs.get("resource_policy") or None))
                    if s:
                        found.setdefault(role_id, []).append(
                            s.technique("+".join(tech.actions), f"{work.type.removeprefix('aws_')} {work.name}, "
                                                                f"which runs as {ctx.view.name(role_id)}"))
            for target, techs in found.items():
                if techs:
                    yield Escalation(techniques=tuple(techs), gains=gains[target] or "").edge(pid, target, SOURCE)

    @staticmethod
    def _workloads(ctx: Context) -> dict[str, list[tuple[Workload, str]]]:
        out: dict[str, list[tuple[Workload, str]]] = {}
        for node in ctx.view.nodes.values():
            if not isinstance(node, Workload) or node.provider != "aws" or not node.native_id:
                continue
            if node.type == "aws_ec2_instance" and not node.attrs.get("instance_profile_arn"):
                continue
            for e in ctx.edges(node.id, "runs_as"):
                if e["dst"] in ctx.principals:
                    out.setdefault(node.type, []).append((node, e["dst"]))
        return out

    @staticmethod
    def _on_role(ctx: Context, pid: str, role: Identity, passrole: Sequence[PassRoleTechnique]) -> list[Technique]:
        out = []
        arn = role.native_id or ""
        s = ctx.step(pid, ("iam:UpdateAssumeRolePolicy",), (arn,))
        if s:
            out.append(s.technique("iam:UpdateAssumeRolePolicy", f"trust policy of {role.name}"))
        trust = role.attrs.get("trust_policy") or {}
        if _assumable(ctx, pid, role):
            for action in SELF_ROLE:
                s = ctx.step(pid, (action,), (arn,))
                if s:
                    out.append(s.technique(action, f"role {role.name}, which it can assume"))
        services = set(trusted_services(trust))
        for tech in passrole:
            if tech.service not in services:
                continue
            if tech.needs == "instance_profile" and not role.attrs.get("instance_profiles"):
                continue
            request = (ctx.ev.request or RequestContext()).merged({"iam:PassedToService": (tech.service,)})
            passing = ctx.step(pid, ("iam:PassRole",), (arn,), request=request)
            if passing is None:
                continue
            for actions in tech.any_of:
                s = ctx.action_step(pid, actions, Step(list(passing.grants), passing.conditional, set(passing.keys)))
                if s:
                    out.append(s.technique("+".join(("iam:PassRole", *actions)),
                                           f"role {role.name} passed to {tech.service} ({tech.id})"))
                    break
        return out

    @staticmethod
    def _on_user(ctx: Context, pid: str, user: Identity) -> list[Technique]:
        out = []
        arn = user.native_id or ""
        keys = [c for c in (ctx.node(e) for e in ctx.view.credentials_of(user.id))
                if isinstance(c, Credential) and c.type == "aws_access_key"]
        password = bool(user.attrs.get("password_enabled")) or any(
            isinstance(c, Credential) and c.type == "aws_console_password"
            for c in (ctx.node(e) for e in ctx.view.credentials_of(user.id)))
        checks = [("iam:CreateAccessKey", len(keys) < 2, "a new access key"),
                  ("iam:CreateLoginProfile", not password, "a console password (it has none)"),
                  ("iam:UpdateLoginProfile", password, "a new console password")]
        for action, possible, what in checks:
            if not possible:
                continue
            s = ctx.step(pid, (action,), (arn,))
            if s:
                out.append(s.technique(action, f"{what} for {user.name}"))
        return out


def _assumable(ctx: Context, pid: str, role: Identity) -> bool:
    trust = role.attrs.get("trust_policy") or None
    if not trust:
        return False
    got = ctx.ev.can_assume(ctx.principals[pid], Resource(role.native_id or "", role.account or "", dict(trust)))
    return got is not None


CHECKERS: tuple[EdgeChecker[Context], ...] = (PolicyEditChecker(), TargetChecker())
