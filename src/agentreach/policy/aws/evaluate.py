"""Effective-permission evaluation for AWS, as pure functions over stored policy documents.

The rules follow the IAM User Guide, "Policy evaluation logic":

1. An explicit Deny in any applicable policy (identity, boundary, SCP, resource policy that
   names the principal) removes the action.  A Deny whose condition cannot be decided from
   the snapshot does not remove it: the action stays, marked conditional with the Deny's keys.
2. SCPs (when given) must allow the action at every level of the organization: the root,
   each OU on the way and the account (AWS Organizations User Guide, "SCP evaluation": "there
   must be an explicit Allow statement at every level"); a Deny at any level removes it.
3. Same account: an Allow in the identity policies (cut by the boundary) or in the resource
   policy is enough.  A resource-policy grant naming the principal's ARN is not limited by
   the boundary for an IAM user; for a role ARN it is (the session is what calls, and only a
   session ARN escapes the boundary).  ``Principal: "*"`` is matched by the session, so it is
   not limited either.  A grant to the account (root ARN or bare id) delegates to IAM: the
   identity policies must allow too.
4. KMS key policies and role trust policies must themselves allow: identity policies only
   count when the key/trust policy delegates to the account (names its root).
5. Cross-account: the resource policy must allow (naming the principal, its account or
   ``*``) and so must the identity policies (cut by the boundary).

Interpretations chosen where AWS leaves room, all leaning towards reporting reach:

* A resource that is itself a pattern (``arn:aws:s3:::acme-pii/*``) is reached by an Allow on
  any part of it and only lost to a Deny covering all of it; a partial Deny leaves it.
* ``account_wide`` counts only statements whose Resource covers the whole service in the
  account; actions without resource-level permissions need ``Resource: "*"`` exactly.
* A KMS key whose policy the snapshot lacks is evaluated under AWS's default key policy.
* The trust policy of a role is ignored by :meth:`AwsEvaluator.access` (it governs sts only).
* ``admin``: IAM permissions-management actions, or ``*`` on ``*`` through every layer.
  Actions that open an escalation (iam:PassRole, iam:CreateAccessKey on other users …) are
  not admin: they are ``can_escalate`` edges of their own (:mod:`.escalation`), with the
  technique that needs them.
* ``NotPrincipal`` (with Deny) spares the principal only when it lists both its ARN and its
  account; it never spares a principal that has a permissions boundary (IAM User Guide,
  NotPrincipal and "Permissions boundaries for IAM entities").
* Conditions are decided for the facts of the pair and the stated request context
  (:mod:`agentreach.policy.context`); policy variables in ``Resource`` are substituted when
  their keys are known (``${aws:username}`` for a user), else the match is conditional.

Work is done per service prefix: statements are indexed by service and an action pattern is
expanded only within the one service being asked about, never ``*`` into every action.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable

from ...order import strongest_access
from ..context import RequestContext
from .catalogue import ActionCatalogue, default_catalogue
from .conditions import FALSE, TRUE, UNKNOWN, ConditionContext, evaluate_condition, variable_keys
from .matching import (
    arn_match,
    arn_service,
    globs_intersect,
    has_wildcard,
    is_service_wide,
    resolve_variables,
    split_arn,
    wildcard_match,
)
from .model import Access, PolicyRef, Principal, Resource
from .statements import ACCOUNT, ARN, STAR, CompiledDocument, Statement, compile_document

__all__ = ["AwsEvaluator", "resource_policy_ref", "union"]

# An allow decision over a set of actions, as two sets: allowed outright (``yes``) and allowed
# at least under some undecidable condition (``any``, a superset of ``yes``).  Combining
# policy layers is then set algebra (AND = intersect both, OR = union both), which is what
# keeps thousands of principals times hundreds of resources cheap.
Sets = tuple[frozenset[str], frozenset[str]]
_NONE: frozenset[str] = frozenset()
_EMPTY: Sets = (_NONE, _NONE)

ASSUME_ACTIONS = ("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity")
_KIND_ORDER = {k: i for i, k in enumerate(("inline", "managed", "group-inline", "group-managed", "resource", "trust"))}


def _and(a: Sets | None, b: Sets | None) -> Sets:
    """None stands for "no such layer", which limits nothing."""
    if a is None:
        return b if b is not None else _EMPTY
    if b is None:
        return a
    return (a[0] & b[0], a[1] & b[1])


def union(a: Access | None, b: Access | None) -> Access | None:
    """Two answers about parts of one thing (a bucket and its objects, two services of one
    question) as one: any conditional action makes the whole conditional (the evaluator's
    own sense of ``conditional``)."""
    if a is None or b is None:
        return a or b
    return Access(actions=a.actions | b.actions, level=strongest_access((a.level, b.level)) or a.level,
                  admin=a.admin or b.admin, conditional=a.conditional or b.conditional,
                  condition_keys=tuple(dict.fromkeys(a.condition_keys + b.condition_keys)),
                  grants=tuple(dict.fromkeys(a.grants + b.grants)),
                  conditional_actions=a.conditional_actions | b.conditional_actions)


def _or(*xs: Sets) -> Sets:
    yes: frozenset[str] = _NONE
    any_: frozenset[str] = _NONE
    for x in xs:
        yes = yes | x[0]
        any_ = any_ | x[1]
    return (yes, any_)


class _Target:
    """What the statements' Resource elements are tested against."""

    __slots__ = ("account", "arn", "pattern", "service", "wide")

    def __init__(self, arn: str, service: str, account: str, wide: bool = False) -> None:
        self.arn = arn
        self.service = service
        self.account = account
        self.wide = wide
        self.pattern = (not wide) and has_wildcard(arn)


def _covers(pattern: str, target: _Target) -> bool:
    if target.wide:
        return is_service_wide(pattern, target.service, target.account)
    return arn_match(pattern, target.arn)


def _intersects(pattern: str, target: _Target) -> bool:
    if target.wide:
        if pattern.strip("*") == "":
            return True
        parts = split_arn(pattern)
        return (
            parts is not None
            and wildcard_match(parts[2], target.service, False)
            and (parts[4] == "" or wildcard_match(parts[4], target.account, True))
        )
    if target.pattern:
        return pattern == "*" or globs_intersect(pattern, target.arn, True)
    return arn_match(pattern, target.arn)


def _resource_state(stmt: Statement, target: _Target, ctx: "_LazyContext") -> tuple[int, frozenset[str]]:
    """Does the statement's Resource/NotResource apply to the target?

    An Allow needs to reach *some* of a pattern target (an object-key pattern); a Deny must
    cover *all* of it to remove the access.  An account-wide target ("all of S3") is only
    granted by statements covering all of it, and only denied by those too.  A pattern with
    policy variables is matched with their values when the context knows them (a variable
    known to have no value matches nothing); otherwise it only matches with the variables
    read as ``*``, and applies as UNKNOWN with their keys.
    """
    if stmt.resources is None:
        return TRUE, _NONE
    # An account-wide target needs a statement covering all of it, whatever the effect.
    some = stmt.allow and not target.wide
    plain = var = False
    unknown_keys: set[str] = set()
    for i, (pattern, has_var) in enumerate(stmt.resource_patterns):
        if has_var:
            known = ctx.get()
            raw = stmt.raw_resources[i]
            resolved = resolve_variables(raw, known.lookup)
            if resolved is None:  # a variable with no value: this pattern matches nothing
                continue
            if resolved is not False:
                pattern, has_var = resolved, False
            else:
                unknown_keys.update(k for k in variable_keys(raw) if known.lookup(k) is None)
        if stmt.not_resource:
            hit = _covers(pattern, target) if some else _intersects(pattern, target)
        else:
            hit = _intersects(pattern, target) if some else _covers(pattern, target)
        if hit:
            if has_var:
                var = True
            else:
                plain = True
                break
    keys = frozenset(k for k in stmt.resource_keys if k.lower() in unknown_keys) or frozenset(stmt.resource_keys)
    if stmt.not_resource:
        if plain:
            return FALSE, _NONE
        return (UNKNOWN, keys) if var else (TRUE, _NONE)
    if plain:
        return TRUE, _NONE
    return (UNKNOWN, keys) if var else (FALSE, _NONE)


@lru_cache(maxsize=65536)
def resource_policy_ref(arn: str, trust: bool = False) -> PolicyRef:
    """The ref shown for a resource policy: "bucket policy of acme-pii", "trust policy of role/x"."""
    parts = split_arn(arn)
    service = parts[2].lower() if parts else ""
    name = parts[5] if parts else arn
    if service == "s3":
        name = name.split("/", 1)[0]
    if trust:
        return PolicyRef("trust", f"trust policy of {name}", "")
    label = {"s3": "bucket policy", "kms": "key policy", "secretsmanager": "secret policy", "lambda": "function policy"}
    return PolicyRef("resource", f"{label.get(service, 'resource policy')} of {name}", "")


@lru_cache(maxsize=4096)
def _default_key_policy(arn: str, account: str) -> tuple[PolicyRef, dict[str, Any]]:
    """Every KMS key has a key policy; when the snapshot lacks it, assume AWS's default one
    (the account root may use the key, so IAM policies decide) rather than report nothing."""
    name = split_arn(arn)
    ref = PolicyRef("resource", f"default key policy of {name[5] if name else arn} (assumed: not collected)", "")
    root = {"AWS": f"arn:aws:iam::{account}:root"}
    doc = {
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": root,
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
    }
    return ref, doc


class _Hit:
    """One statement that applies: the actions it covers here and whether it is decided."""

    __slots__ = ("acts", "keys", "stmt", "yes")

    def __init__(self, stmt: Statement, acts: frozenset[str], yes: bool, keys: frozenset[str]) -> None:
        self.stmt = stmt
        self.acts = acts
        self.yes = yes
        self.keys = keys


class _Scan:
    """One policy layer's allows (by how the principal is named) and denies."""

    __slots__ = ("allow", "deny")

    def __init__(self) -> None:
        self.allow: dict[str | None, list[_Hit]] = {}
        self.deny: list[_Hit] = []

    def allowed(self, kind: str | None = None) -> Sets:
        return _sets(self.allow.get(kind, ()))

    def denied(self) -> Sets:
        return _sets(self.deny)


def _sets(hits: list[_Hit] | tuple[()]) -> Sets:
    if len(hits) == 1:
        h = hits[0]
        return (h.acts if h.yes else _NONE, h.acts)
    yes: set[str] = set()
    any_: set[str] = set()
    for h in hits:
        any_ |= h.acts
        if h.yes:
            yes |= h.acts
    return (frozenset(yes), frozenset(any_))


def _attribute(
    hits: Iterable[_Hit], path: frozenset[str], conditional: frozenset[str], refs: set[PolicyRef], keys: set[str]
) -> None:
    """Collect the refs of statements that grant something on ``path`` and the keys of the
    undecided ones that explain a conditional action."""
    for h in hits:
        if h.acts & path:
            refs.add(h.stmt.ref)
            if not h.yes and h.acts & path & conditional:
                keys |= h.keys


def _limit_keys(hits: Iterable[_Hit], conditional: frozenset[str], keys: set[str]) -> None:
    for h in hits:
        if not h.yes and h.acts & conditional:
            keys |= h.keys


class AwsEvaluator:
    """Answers "what can this principal do to this resource, granted by what?".

    Compiled documents are cached by object identity (the evaluator keeps a reference so an
    id is never reused), so pass the same dicts from the snapshot for every question.
    ``problems`` collects one line per malformed document or statement that was skipped.
    """

    def __init__(self, catalogue: ActionCatalogue | None = None, request: RequestContext | None = None) -> None:
        self.catalogue = catalogue or default_catalogue()
        self.request = request
        self.problems: list[str] = []
        self._docs: dict[tuple[int, PolicyRef], tuple[Any, CompiledDocument]] = {}
        self._docs_by_id: dict[int, tuple[Any, PolicyRef, CompiledDocument]] = {}
        self._everything: dict[int, tuple[Principal, bool]] = {}

    # --- public API -------------------------------------------------------------------------
    def access(self, principal: Principal, resource: Resource, request: RequestContext | None = None) -> Access | None:
        """Allowed actions on ``resource`` (None = none).  For a role ARN this covers IAM
        actions on the role; whether the principal can assume it is :meth:`can_assume`.
        ``request``: the stated request context (default: the evaluator's)."""
        service = arn_service(resource.arn)
        if service is None:
            self.problems.append(f"resource {resource.arn!r}: not an ARN, use account_wide()")
            return None
        return self._on_resource(principal, resource, service, self.catalogue.actions_for_arn(resource.arn), request)

    def allows(self, principal: Principal, actions: Iterable[str], resource: Resource,
               request: RequestContext | None = None) -> Access | None:
        """Which of ``actions`` (canonical names) the principal may do on ``resource``; a
        resource of ``*`` asks about actions that take no resource (``ec2:RunInstances`` on
        any instance, ``iam:CreatePolicy``). The question an escalation checker asks."""
        wanted = frozenset(actions)
        if resource.arn == "*":
            out = None
            for service in sorted({a.partition(":")[0].lower() for a in wanted}):
                got = self._wide(principal, principal.account, service,
                                 frozenset(a for a in wanted if a.partition(":")[0].lower() == service), request)
                if got is None:
                    return None
                out = union(out, got)
            return out
        if arn_service(resource.arn) is None:
            return None
        out = None
        for service in sorted({a.partition(":")[0].lower() for a in wanted}):  # ssm:SendCommand on an instance
            got = self._on_resource(principal, resource, service,
                                    frozenset(a for a in wanted if a.partition(":")[0].lower() == service), request)
            if got is None:
                return None
            out = union(out, got)
        return out

    def _on_resource(self, principal: Principal, resource: Resource, service: str, candidates: frozenset[str],
                     request: RequestContext | None) -> Access | None:
        """``service``: the actions' prefix (the resource's own, or another service acting on
        it, as ssm:SendCommand on an EC2 instance)."""
        policy = resource.policy
        if service == "iam" and ":role/" in resource.arn:
            policy = None  # a role's trust policy governs sts:AssumeRole only
        target = _Target(resource.arn, service, resource.account)
        pol = (resource_policy_ref(resource.arn), policy) if policy is not None else None
        if service == "kms" and policy is None and ":key/" in resource.arn:
            pol = _default_key_policy(resource.arn, resource.account)
        return self._evaluate(principal, service, candidates, target, resource.account, pol, service == "kms",
                              request or self.request)

    def can_assume(self, principal: Principal, role: Resource, request: RequestContext | None = None) -> Access | None:
        """sts:AssumeRole (with TagSession / SetSourceIdentity when also allowed) on ``role``,
        whose ``policy`` is its trust policy; the trust policy must allow in every case."""
        if role.policy is None:
            return None
        target = _Target(role.arn, "sts", role.account)
        pol = (resource_policy_ref(role.arn, trust=True), role.policy)
        got = self._evaluate(principal, "sts", frozenset(ASSUME_ACTIONS), target, role.account, pol, True,
                             request or self.request)
        return got if got is not None and "sts:AssumeRole" in got.actions else None

    def account_wide(self, principal: Principal, account: str, service: str,
                     request: RequestContext | None = None) -> Access | None:
        """Grants covering every resource of ``service`` in ``account`` (Resource ``*``,
        ``arn:aws:s3:::*``, ``arn:*:dynamodb:*:ACCT:*``...).  Only the principal's own account:
        elsewhere a resource policy is needed, which belongs to a concrete resource."""
        service = service.lower()
        return self._wide(principal, account, service, frozenset(self.catalogue.actions(service)), request)

    def _wide(self, principal: Principal, account: str, service: str, candidates: frozenset[str],
              request: RequestContext | None) -> Access | None:
        if account != principal.account:
            return None
        target = _Target("*", service, account, wide=True)
        return self._evaluate(principal, service, candidates, target, account, None, False, request or self.request)

    # --- compilation --------------------------------------------------------------------------
    def _doc(self, ref: PolicyRef, document: Any) -> CompiledDocument:
        first = self._docs_by_id.get(id(document))
        if first is not None and first[0] is document and (first[1] is ref or first[1] == ref):
            return first[2]  # the common case: one ref per document, no hashing of the ref
        key = (id(document), ref)
        hit = self._docs.get(key)
        if hit is not None and hit[0] is document:
            return hit[1]
        compiled = compile_document(ref, document, self.problems)
        self._docs[key] = (document, compiled)
        if first is None or first[0] is not document:
            self._docs_by_id[id(document)] = (document, ref, compiled)
        return compiled

    def _stmt_actions(self, stmt: Statement, service: str) -> frozenset[str]:
        hit = stmt.action_cache.get(service)
        if hit is not None:
            return hit
        matched: set[str] = set()
        for pattern in stmt.actions:
            svc, sep, name = pattern.partition(":")
            if not sep:
                if pattern.strip("*") == "":
                    matched |= self.catalogue.expand_in_service("*", service)
                continue
            if wildcard_match(svc, service, False):
                matched |= self.catalogue.expand_in_service(name, service)
        everything = self.catalogue.expand_in_service("*", service)
        out = frozenset(everything - matched) if stmt.not_action else frozenset(matched)
        stmt.action_cache[service] = out
        return out

    # --- evaluation -----------------------------------------------------------------------------
    def _scan(
        self,
        policies: Iterable[tuple[PolicyRef, Any]],
        service: str,
        candidates: frozenset[str],
        target: _Target,
        ctx: _LazyContext,
        principal: Principal | None = None,
    ) -> _Scan:
        out = _Scan()
        for ref, document in policies:
            for stmt in self._doc(ref, document).for_service(service):
                kind: str | None = None
                if principal is not None:
                    if stmt.principal is None:
                        continue
                    if stmt.not_principal:
                        # NotPrincipal is only meaningful with Deny; a principal with a
                        # permissions boundary is never spared by it.
                        if not stmt.allow and principal.boundary is None \
                                and stmt.principal.spares(principal.arn, principal.account):
                            continue
                        if stmt.allow:
                            continue
                        kind = STAR
                    else:
                        named = stmt.principal.match(principal.arn, principal.account)
                        if named is None:
                            continue
                        kind = named
                acts = self._stmt_actions(stmt, service) & candidates
                if target.wide and not stmt.star_resource and not stmt.not_resource and stmt.resources is not None:
                    acts = acts - self.catalogue.resourceless(service)
                if not acts:
                    continue
                rstate, rkeys = _resource_state(stmt, target, ctx)
                if rstate == FALSE:
                    continue
                compiled = stmt.condition
                constant = compiled.constant
                if constant is not None and (constant.state == TRUE or compiled.keys.isdisjoint(ctx.request_keys)):
                    cond = constant
                else:
                    cond = evaluate_condition(compiled, ctx.get())
                if cond.state == FALSE:
                    continue
                yes = rstate == TRUE and cond.state == TRUE
                keys = _NONE if yes else rkeys | frozenset(cond.keys)
                hit = _Hit(stmt, acts, yes, keys)
                if stmt.allow:
                    out.allow.setdefault(kind, []).append(hit)
                else:
                    out.deny.append(hit)
        return out

    def _evaluate(
        self,
        principal: Principal,
        service: str,
        candidates: frozenset[str],
        target: _Target,
        resource_account: str,
        policy: tuple[PolicyRef, Any] | None,
        requires_resource: bool,
        request: RequestContext | None = None,
    ) -> Access | None:
        ctx = _LazyContext(principal, resource_account, request)
        ident = self._scan(principal.identity_policies, service, candidates, target, ctx)
        res = self._scan((policy,), service, candidates, target, ctx, principal) if policy is not None else _Scan()
        if not ident.allow and not res.allow:
            return None
        same = principal.account == resource_account
        levels = principal.levels
        if same and not requires_resource and not res.allow and not res.deny and not principal.boundary:
            if not levels:  # the common case: identity policies alone decide
                return self._finish(principal, service, target, resource_account, ident.allowed(), [ident], ident)
        id_allow = ident.allowed()
        r_star, r_arn, r_acct = res.allowed(STAR), res.allowed(ARN), res.allowed(ACCOUNT)
        bound = self._scan((principal.boundary,), service, candidates, target, ctx) if principal.boundary else None
        scps = [self._scan(level, service, candidates, target, ctx) for level in levels]
        b_allow = bound.allowed() if bound else None
        identity = _and(id_allow, b_allow)

        if same:
            r_arn_eff = r_arn if ":user/" in principal.arn else _and(r_arn, b_allow)
            via_account = _and(r_acct, identity)
            allowed = _or(r_star, r_arn_eff, via_account) if requires_resource else _or(identity, r_star, r_arn_eff)
            id_path = via_account[1] if requires_resource else identity[1]
            paths = {STAR: r_star[1], ARN: r_arn_eff[1], ACCOUNT: via_account[1] if requires_resource else _NONE}
        else:
            allowed = _and(_or(r_star, r_arn, r_acct), identity)
            id_path = allowed[1]
            paths = {STAR: allowed[1], ARN: allowed[1], ACCOUNT: allowed[1]}
        for level in scps:  # every level of the organization must allow
            allowed = _and(allowed, level.allowed())

        layers = [ident] + ([bound] if bound is not None else []) + scps + [res]
        return self._finish(
            principal, service, target, resource_account, allowed, layers, ident, id_path, res, paths, bound, scps
        )

    def _finish(
        self,
        principal: Principal,
        service: str,
        target: _Target,
        resource_account: str,
        allowed: Sets,
        layers: list[_Scan],
        ident: _Scan,
        id_path: frozenset[str] | None = None,
        res: _Scan | None = None,
        paths: dict[str, frozenset[str]] | None = None,
        bound: _Scan | None = None,
        scps: list[_Scan] | None = None,
    ) -> Access | None:
        """Apply the denies, then name the statements that grant and the keys that condition."""
        deny_yes: frozenset[str] = _NONE
        deny_any: frozenset[str] = _NONE
        for layer in layers:
            if layer.deny:
                dy, da = layer.denied()
                deny_yes = deny_yes | dy
                deny_any = deny_any | da
        final_any = allowed[1] - deny_yes
        if not final_any:
            return None
        final_yes = (allowed[0] - deny_any) & final_any
        conditional = final_any - final_yes

        refs: set[PolicyRef] = set()
        keys: set[str] = set()
        _attribute(
            ident.allow.get(None, ()), final_any if id_path is None else id_path & final_any, conditional, refs, keys
        )
        if res is not None and paths is not None:
            for kind, path in paths.items():
                _attribute(res.allow.get(kind, ()), path & final_any, conditional, refs, keys)
        if conditional:
            for layer in ([bound] if bound is not None else []) + list(scps or ()):
                _limit_keys(layer.allow.get(None, ()), conditional, keys)
            for layer in layers:
                _limit_keys(layer.deny, conditional, keys)
        return self._access(principal, service, final_any, conditional, refs, keys, resource_account, target.wide)

    def _access(
        self,
        principal: Principal,
        service: str,
        actions: frozenset[str],
        conditional: frozenset[str],
        refs: set[PolicyRef],
        keys: set[str],
        account: str,
        wide: bool,
    ) -> Access:
        # An action the catalogue lacks (none should reach here) would count as write.
        level = next(
            (lv for lv, members in self.catalogue.level_sets(service) if not actions.isdisjoint(members)), "write"
        )
        admin = service == "iam" and level == "permissions-management"
        if not admin and account == principal.account:
            admin = self._holds_everything(principal)
        return Access(
            actions=actions,
            level=level,
            admin=admin,
            conditional=bool(conditional),
            condition_keys=tuple(sorted(keys)),
            grants=tuple(sorted(refs, key=lambda r: (_KIND_ORDER.get(r.kind, 9), r.name, r.statement))),
            conditional_actions=conditional,
        )

    def holds_everything(self, principal: Principal) -> bool:
        """``*`` on ``*`` allowed by the identity policies, the boundary and the SCPs alike."""
        return self._holds_everything(principal)

    def grants_anything(self, principal: Principal) -> bool:
        """Some identity policy of the principal allows something (what taking it over gains)."""
        return any(s.allow for ref, doc in principal.identity_policies for s in self._doc(ref, doc).statements)

    def _holds_everything(self, principal: Principal) -> bool:
        """``*`` on ``*`` allowed by the identity policies, the boundary and the SCPs alike."""
        hit = self._everything.get(id(principal))
        if hit is not None and hit[0] is principal:
            return hit[1]
        result = self._holds_everything_uncached(principal)
        self._everything[id(principal)] = (principal, result)
        return result

    def _holds_everything_uncached(self, principal: Principal) -> bool:

        def has(policies: Iterable[tuple[PolicyRef, Any]]) -> bool:
            return any(s.star_star for ref, doc in policies for s in self._doc(ref, doc).statements)

        if not has(principal.identity_policies):
            return False
        if principal.boundary and not has((principal.boundary,)):
            return False
        return all(has(level) for level in principal.levels)


class _LazyContext:
    """Builds the condition context only when a statement has a decidable condition."""

    __slots__ = ("_ctx", "_principal", "_resource_account", "request", "request_keys")

    def __init__(self, principal: Principal, resource_account: str, request: RequestContext | None = None) -> None:
        self._principal = principal
        self._resource_account = resource_account
        self._ctx: ConditionContext | None = None
        self.request = request
        self.request_keys = request.decided_keys if request is not None else _NONE

    def get(self) -> ConditionContext:
        if self._ctx is None:
            p = self._principal
            values: dict[str, str | None] = {"aws:PrincipalArn": p.arn, "aws:PrincipalAccount": p.account}
            if ":role/" in p.arn:
                values["aws:PrincipalType"] = "AssumedRole"
                values["aws:username"] = None  # a role session has no aws:username
            elif ":user/" in p.arn:
                values["aws:PrincipalType"] = "User"
                values["aws:username"] = p.arn.rsplit("/", 1)[-1]
            if self._resource_account:
                values["aws:ResourceAccount"] = self._resource_account
            self._ctx = ConditionContext(values, p.tags, self.request)
        return self._ctx
