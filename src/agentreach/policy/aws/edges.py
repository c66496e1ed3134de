"""Derived AWS edges: who can assume which role and who can access which system, from the
policy documents a snapshot holds. The AWS reach deriver: each checker below produces one
kind of edge (:class:`agentreach.graph.derive.EdgeChecker`), and each edge carries the
statements that grant it, its access level and whether a condition makes it uncertain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

from ...graph.derive import Derived, EdgeChecker, run_checkers
from ...graph.grant import AccessGrant, compact
from ...model import Edge, EdgeKind, Identity, Node, Policy, System, Workload, node_id
from ...view import SnapshotView
from ..classes import classify_aws
from ..context import DEFAULT, RequestContext
from . import escalation
from .evaluate import AwsEvaluator, resource_policy_ref, union
from .model import Access, PolicyRef, Principal, Resource
from .statements import DocumentProblem, statement_list, strings, validate_document

SOURCE = "policy:aws"
PRINCIPAL_TYPES = frozenset({"aws_iam_user", "aws_iam_role"})
RESOURCE_TYPES = frozenset({"aws_s3_bucket", "aws_dynamodb_table", "aws_secretsmanager_secret", "aws_kms_key",
                            "aws_lambda_function"})
# Services whose "Resource: *" grants become an account-wide node ("all of S3 in account X").
ACCOUNT_WIDE_SERVICES = ("s3", "dynamodb", "secretsmanager", "kms", "lambda", "bedrock", "bedrock-agentcore", "iam")


def principal_of(ident: Identity, view: SnapshotView,
                 levels: Mapping[str, tuple[tuple[tuple[PolicyRef, Any], ...], ...]] | None = None) -> Principal:
    """Everything that may grant to an identity: its inline and managed policies and those
    of its groups, its boundary, its tags, the SCPs of its account by level (``levels``:
    account -> levels, computed once per account by the caller)."""
    policies: list[tuple[PolicyRef, dict[str, Any]]] = []
    boundary = None
    holders = [(ident.id, "")] + [(e["dst"], "group-") for e in view.out_edges.get(ident.id, ())
                                  if e["kind"] == "member_of"]
    for holder, prefix in holders:
        node = view.nodes.get(holder)
        owner = f" of group {node.name}" if prefix and node else ""
        for inline in (node.attrs.get("inline_policies") or []) if node else []:
            policies.append((PolicyRef(f"{prefix}inline", f"{inline.get('name')}{owner}", ""),
                             dict(inline.get("document") or {})))
        for edge in view.out_edges.get(holder, ()):
            if edge["kind"] != "has_policy":
                continue
            pol = view.nodes.get(edge["dst"])
            if not isinstance(pol, Policy):
                continue
            if edge.get("attrs", {}).get("attachment") == "boundary":
                if not prefix:
                    boundary = (PolicyRef("boundary", pol.name, ""), dict(pol.document))
                continue
            policies.append((PolicyRef(f"{prefix}managed", f"{pol.name}{owner}", ""), dict(pol.document)))
    return Principal(arn=ident.native_id or ident.id, account=ident.account or "", identity_policies=tuple(policies),
                     boundary=boundary, tags=dict(ident.tags),
                     scp_levels=levels[ident.account or ""] if levels is not None and (ident.account or "") in levels
                     else scp_levels(view, ident.account or ""))


def scp_levels(view: SnapshotView, account: str) -> tuple[tuple[tuple[PolicyRef, Any], ...], ...]:
    """The SCPs that apply to ``account``, one tuple per level of the organization, root
    first. A level the snapshot shows no SCP at is left out (AWS keeps at least one SCP on
    every root, OU and account, so an empty level is missing data, not a deny); a snapshot
    whose edges predate levels gives one level of everything."""
    by_level: dict[int, list[tuple[PolicyRef, Any]]] = {}
    for edge in view.out_edges.get(node_id("aws", "account", account), ()):
        pol = view.nodes.get(edge["dst"])
        attrs = edge.get("attrs") or {}
        if edge["kind"] != "has_policy" or not isinstance(pol, Policy) or attrs.get("attachment") != "scp":
            continue
        level = attrs.get("level")
        by_level.setdefault(level if isinstance(level, int) else -1, []).append(
            (PolicyRef("scp", f"{pol.name} (on {attrs.get('via')})", ""), dict(pol.document)))
    return tuple(tuple(by_level[k]) for k in sorted(by_level))


def resource_of(node: Node) -> Resource:
    policy = node.resource_policy if isinstance(node, System) else node.attrs.get("resource_policy")
    if isinstance(policy, Mapping) and policy.get("_unparsed"):
        policy = None
    return Resource(arn=node.native_id or node.id, account=node.account or "", policy=dict(policy) if policy else None)


def grant_of(access: Access, system_type: str | None = None, candidates: frozenset[str] | None = None,
             classify: bool = True) -> AccessGrant:
    """The evaluator's answer as the graph's typed grant: its access classes on a system of
    ``system_type`` (config/access-classes.yaml) and its actions compacted against
    ``candidates``, the actions that apply to the system."""
    cls = classify_aws(system_type, access.actions, access.conditional_actions) if classify else None
    return AccessGrant(level=access.level, admin=access.admin, conditional=access.conditional,
                       condition_keys=tuple(access.condition_keys), actions=frozenset(access.actions),
                       grants=tuple(g.text for g in access.grants),
                       classes=cls.classes if cls else frozenset(),
                       conditional_classes=cls.conditional if cls else frozenset(),
                       class_actions=cls.actions if cls else {},
                       actions_by_service=compact(access.actions, candidates),
                       conditional_actions=frozenset(access.conditional_actions))


class Candidates:
    """Which principals could possibly be granted on a resource, so that the evaluator is
    asked about those only: the ones whose own policies name the resource's service (or
    every service), and the ones a resource policy names. Everyone else is a sure "no"; the
    evaluator still decides every pair this lets through."""

    def __init__(self, principals: Mapping[str, Principal]) -> None:
        self.principals = principals
        self.by_service: dict[str, set[str]] = {}
        self.everything: set[str] = set()
        self.by_arn = {p.arn: pid for pid, p in principals.items()}
        for pid, principal in principals.items():
            for _, doc in principal.identity_policies:
                for service in _allowed_services(doc):
                    if service == "*":
                        self.everything.add(pid)
                    else:
                        self.by_service.setdefault(service, set()).add(pid)

    def for_resource(self, arn: str, policy: Mapping[str, Any] | None) -> list[str]:
        parts = arn.split(":")
        service = parts[2].lower() if len(parts) > 2 else ""
        ids = self.by_service.get(service, set()) | self.everything
        named = _named_principals(policy)
        if "*" in named:
            return list(self.principals)
        ids |= {self.by_arn[a] for a in named if a in self.by_arn}
        return sorted(ids)


    def for_trust(self, trust: Mapping[str, Any] | None) -> list[str]:
        """A trust policy names who may assume: specific principals, or whole accounts
        (whose principals then need sts:AssumeRole in their own policies), or anyone."""
        named = _named_principals(trust)
        if "*" in named:
            return list(self.principals)
        accounts = {n.split(":")[4] for n in named if n.endswith(":root") and n.count(":") >= 5}
        accounts |= {n for n in named if n.isdigit() and len(n) == 12}
        ids = {self.by_arn[a] for a in named if a in self.by_arn}
        if accounts:
            may_assume = self.by_service.get("sts", set()) | self.everything
            ids |= {pid for pid in may_assume if self.principals[pid].account in accounts}
        return sorted(ids)


def _allowed_services(doc: Mapping[str, Any]) -> set[str]:
    out: set[str] = set()
    for stmt in statement_list(doc):
        if stmt.get("Effect") != "Allow":
            continue
        if "NotAction" in stmt:
            out.add("*")
            continue
        for action in strings(stmt.get("Action")):
            prefix = action.split(":", 1)[0] if ":" in action else "*"
            out.add("*" if prefix in ("*", "") else prefix.lower())
    return out


def _named_principals(policy: Mapping[str, Any] | None) -> set[str]:
    out: set[str] = set()
    for stmt in statement_list(policy):
        principal = stmt.get("Principal")
        if principal == "*" or "NotPrincipal" in stmt:
            out.add("*")
        elif isinstance(principal, Mapping):
            out.update(strings(principal.get("AWS")))
    return out


@dataclass
class Context:
    """What every AWS checker reads: the evaluator, the principals and who could be granted
    on what, and the snapshot's roles and resources."""

    ev: AwsEvaluator
    cands: Candidates
    roles: list[Identity]
    systems: list[Node]


class AssumeRoleChecker(EdgeChecker[Context]):
    finds = "identity -can_assume-> role, from the role's trust policy and the caller's own policy"

    def return_edges(self, ctx: Context) -> Iterator[Edge]:
        principals = ctx.cands.principals
        for role in ctx.roles:
            target = Resource(arn=role.native_id or role.id, account=role.account or "",
                              policy=dict(role.attrs.get("trust_policy") or {}) or None)
            for pid in ctx.cands.for_trust(target.policy):
                if pid == role.id:
                    continue
                access = ctx.ev.can_assume(principals[pid], target)
                if access is not None:
                    yield grant_of(access, classify=False).edge(pid, role.id, SOURCE, EdgeKind.CAN_ASSUME)


combine = union  # a bucket and its objects (arn/*) are parts of one resource: one answer


class ResourceAccessChecker(EdgeChecker[Context]):
    """A bucket is judged with its objects (``arn/*``): GetObject is granted on objects, not the bucket."""

    finds = "identity -can_access-> system, identity and resource policies together"

    def return_edges(self, ctx: Context) -> Iterator[Edge]:
        for system in ctx.systems:
            target = resource_of(system)
            objects = (Resource(arn=f"{target.arn}/*", account=target.account, policy=target.policy)
                       if system.type == "aws_s3_bucket" else None)
            candidates = ctx.ev.catalogue.actions_for_arn(target.arn)
            if objects is not None:
                candidates = candidates | ctx.ev.catalogue.actions_for_arn(objects.arn)
            for pid in ctx.cands.for_resource(target.arn, target.policy):
                principal = ctx.cands.principals[pid]
                access = ctx.ev.access(principal, target)
                if objects is not None:
                    access = combine(access, ctx.ev.access(principal, objects))
                if access is not None:
                    yield grant_of(access, system.type, candidates).edge(pid, system.id, SOURCE)


class AccountWideChecker(EdgeChecker[Context]):
    finds = 'identity -can_access-> "all of <service> in <account>", for grants on Resource: *'

    def return_edges(self, ctx: Context) -> Iterator[Node | Edge]:
        made: set[str] = set()
        for pid, principal in ctx.cands.principals.items():
            for service in ACCOUNT_WIDE_SERVICES:
                access = ctx.ev.account_wide(principal, principal.account, service)
                if access is None:
                    continue
                nid = node_id("aws", "account_service", f"{principal.account}:{service}")
                if nid not in made:
                    made.add(nid)
                    yield System(id=nid, provider="aws", source=SOURCE, type="aws_account_service",
                                 name=f"all of {service} in {principal.account}", account=principal.account,
                                 attrs={"service": service, "derived": True})
                yield grant_of(access, None, frozenset(ctx.ev.catalogue.actions(service))).edge(pid, nid, SOURCE)


CHECKERS: tuple[EdgeChecker[Context], ...] = (AssumeRoleChecker(), ResourceAccessChecker(), AccountWideChecker())


def document_problems(view: SnapshotView) -> list[str]:
    """Every AWS policy document of the snapshot validated on its own, whatever the
    evaluation later asks of it, each problem naming the policy, whose it is, the statement
    and why it was skipped (an empty document is no policy, not a malformed one)."""
    out: list[str] = []
    for node in view.nodes.values():
        if node.provider != "aws":
            continue
        owner = node.native_id or node.id
        if isinstance(node, Identity):
            for inline in node.attrs.get("inline_policies") or []:
                if isinstance(inline, Mapping) and inline.get("document"):
                    ref = PolicyRef("inline", str(inline.get("name")), "")
                    out += validate_document(ref, inline["document"], owner)
            if node.type == "aws_iam_role" and node.attrs.get("trust_policy"):
                out += validate_document(resource_policy_ref(owner, trust=True), node.attrs["trust_policy"], owner)
        elif isinstance(node, Policy) and node.document:
            out += validate_document(PolicyRef("scp" if node.type == "aws_scp" else "managed", node.name, ""),
                                     node.document, owner)
        elif node.type in RESOURCE_TYPES:
            policy = node.resource_policy if isinstance(node, System) else node.attrs.get("resource_policy")
            if policy:
                out += validate_document(resource_policy_ref(owner), policy, owner)
    return list(dict.fromkeys(out))


def derive(view: SnapshotView, evaluator: AwsEvaluator | None = None, *, context: RequestContext | None = None,
           only: Iterable[str] | None = None) -> Derived:
    """The AWS edges of a snapshot: can_assume, can_access and can_escalate, for the request
    ``context`` (default: :data:`agentreach.policy.context.DEFAULT` at the snapshot's time).
    ``only``: derive the edges *from* these principals
    only (a query for a stated context re-derives the principals it touches)."""
    request = context if context is not None else DEFAULT.at(view.time())
    ev = evaluator or AwsEvaluator(request=request)
    validated = document_problems(view) if only is None else []
    idents = [n for n in view.nodes.values() if isinstance(n, Identity) and n.provider == "aws"]
    levels = {acct: scp_levels(view, acct) for acct in {n.account or "" for n in idents}}
    principals = {n.id: principal_of(n, view, levels) for n in idents if n.type in PRINCIPAL_TYPES}
    wanted = frozenset(only) if only is not None else None
    asking = principals if wanted is None else {k: v for k, v in principals.items() if k in wanted}
    cands = Candidates(asking)
    ctx = Context(ev=ev, cands=cands, roles=[n for n in idents if n.type == "aws_iam_role"],
                  systems=[n for n in view.nodes.values()
                           if isinstance(n, (System, Workload)) and n.type in RESOURCE_TYPES])
    everyone = cands if wanted is None else Candidates(principals)
    esc = escalation.Context(ev=ev, view=view, principals=principals, by_service=everyone.by_service,
                             everything=everyone.everything, only=wanted)
    first = run_checkers(CHECKERS, ctx)
    second = run_checkers(escalation.CHECKERS, esc)
    return Derived(nodes=first.nodes + second.nodes, edges=first.edges + second.edges,
                   # the evaluator's own lines about documents repeat the validation's, without the owner
                   problems=[*validated, *(p for p in ev.problems if not isinstance(p, DocumentProblem))])
