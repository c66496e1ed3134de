"""A small reference evaluator of AWS IAM authorization, written from the IAM User Guide's
documented evaluation logic (not from agentreach's evaluator), so that the two can be
compared on generated cases (tests/test_policy_differential.py).

Sources (IAM User Guide, docs.aws.amazon.com/IAM/latest/UserGuide/…; the awsdocs/iam-user-guide
repository at commit 651083f41c013ac329a0a69cf37be3b368dd0fc2, 2023-05-11, for the text of the
older pages; the current pages for RCPs and the NotPrincipal/boundary rule):

- reference_policies_evaluation-logic_policy-eval-denyallow.html ("How AWS enforcement code
  logic evaluates requests"), and reference_policies_evaluation-logic.html#policy-eval-denyallow
  ("Determining whether a request is allowed or denied within an account"): in order,
  1. an explicit Deny in any applicable policy (SCP, RCP, resource-based, identity-based,
     boundary, session) is final;
  2. RCPs, then 3. SCPs: no applicable Allow is a final Deny;
  4. resource-based policy: within one account an Allow that names the IAM user, the role
     session, or everyone ("*") is final, "not limited by an implicit deny in an
     identity-based policy, a permissions boundary, or session policy"; an Allow that names
     the role ARN "is limited by an implicit deny in a permissions boundary or session
     policy"; naming the account delegates to the account's identity policies
     (reference_policies_elements_principal: "This delegates authority to the account");
     "IAM role trust policies and KMS key policies are exceptions to this logic, because they
     must explicitly allow access for principals";
  5. identity-based policies (the user's, its groups', or the role's) must allow;
  6. the permissions boundary, if any, must allow; 7. the session policy, if any, must allow.
- reference_policies_evaluation-logic-cross-account.html: "AWS allows the request only if
  both account policy evaluations allow the request": the principal's account (identity
  policies, boundary, session policy, its SCPs) and the resource's account (the
  resource-based policy naming the principal or its account, the resource's RCPs).
- AWS Organizations User Guide, orgs_manage_policies_scps_evaluation ("How SCPs work with
  Allow"): "there must be an explicit Allow statement at every level from the root through
  each OU in the direct path to the account (including the target account itself)"; SCPs do
  not restrict the management account. RCPs: the same per level, for the resource's account.
- reference_policies_elements_principal: an Allow with Principal "*" and an aws:PrincipalArn
  condition is not limited by boundaries or session policies: "*" is read here as naming the
  requester itself.
- reference_policies_elements_notprincipal: with Deny, every principal except those named is
  denied; "you must also specify the account ARN of the not-denied principal", and for a role
  "the ARN for a role and the ARN for the account containing that role" (AWS "might validate
  the account first, then the role"): a principal escapes the Deny only if both its account
  and its own ARN (user ARN; role ARN, the session's being optional) are listed. And
  (access_policies_boundaries, current page): "The NotPrincipal element with a Deny effect
  will always deny any IAM principal that has a permissions boundary policy attached,
  regardless of the values specified in the NotPrincipal element."

The root user, federated-user sessions and service principals are out of scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

from .conditions import condition_matches
from .matching import Context, account_of, action_matches, as_list, principal_values, resource_matches

Document = Mapping[str, Any]


@dataclass(frozen=True)
class Principal:
    """An IAM user, or a session of an IAM role (``kind`` "role"), with everything that
    applies to it. ``scps``: the SCPs attached at each level, root first, account last."""

    arn: str
    kind: str = "user"  # user | role
    identity_policies: Sequence[Document] = ()
    boundary: Document | None = None
    session_policy: Document | None = None
    session_name: str = "session"
    scps: Sequence[Sequence[Document]] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    unique_id: str = "AIDAEXAMPLEUNIQUEID"

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def session_arn(self) -> str:
        """The ARN a role session makes requests as: ``assumed-role/NAME/SESSION`` (no path)."""
        return f"arn:aws:sts::{self.account}:assumed-role/{self.name}/{self.session_name}"

    @property
    def request_arn(self) -> str:
        return self.session_arn if self.kind == "role" else self.arn


@dataclass(frozen=True)
class Resource:
    """What is acted on. ``policy``: its resource-based policy (bucket policy, key policy,
    secret policy, a role's trust policy). ``rcps``: per level, as ``Principal.scps``."""

    arn: str
    account: str
    policy: Document | None = None
    rcps: Sequence[Sequence[Document]] = ()
    must_name_principal: bool | None = None  # None: KMS keys and IAM roles (trust policies)

    @property
    def strict(self) -> bool:
        if self.must_name_principal is not None:
            return self.must_name_principal
        return (":kms:" in self.arn and ":key/" in self.arn) or (":iam::" in self.arn and ":role/" in self.arn)


@dataclass(frozen=True)
class Request:
    principal: Principal
    action: str
    resource: Resource
    context: Mapping[str, Any] = field(default_factory=dict)  # extra keys: aws:SourceIp, aws:CurrentTime …


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # explicit-deny | implicit-deny | allow, and the step that decided

    @property
    def explicit_deny(self) -> bool:
        return self.reason.startswith("explicit-deny")


def request_context(req: Request) -> dict[str, list[str]]:
    """The keys AWS fills in for the principal and resource (global condition keys), then
    the request's own. Keys are compared case-insensitively, so they are stored lower-case."""
    p = req.principal
    ctx: dict[str, list[str]] = {
        "aws:principalarn": [p.arn],
        "aws:principalaccount": [p.account],
        "aws:principaltype": ["AssumedRole" if p.kind == "role" else "User"],
        "aws:userid": [f"{p.unique_id}:{p.session_name}" if p.kind == "role" else p.unique_id],
        "aws:resourceaccount": [req.resource.account],
    }
    if p.kind == "user":
        ctx["aws:username"] = [p.name]
    for key, value in p.tags.items():
        ctx[f"aws:principaltag/{key.lower()}"] = [str(value)]
    for key, value in req.context.items():
        ctx[key.lower()] = [str(v).lower() if isinstance(v, bool) else str(v) for v in as_list(value)]
    return ctx


def statements(doc: Document | None) -> Iterator[Mapping[str, Any]]:
    stmts = (doc or {}).get("Statement")
    for stmt in [stmts] if isinstance(stmts, Mapping) else (stmts or []):
        if isinstance(stmt, Mapping):
            yield stmt


def _variables(doc: Document, ctx: Context) -> Context | None:
    """Policy variables are only substituted in policies of version 2012-10-17."""
    return ctx if (doc or {}).get("Version") == "2012-10-17" else None


def applies(stmt: Mapping[str, Any], doc: Document, req: Request, ctx: Context) -> bool:
    """Action/NotAction, Resource/NotResource and Condition (not the principal)."""
    if "Action" in stmt:
        if not action_matches(as_list(stmt["Action"]), req.action):
            return False
    elif "NotAction" in stmt:
        if action_matches(as_list(stmt["NotAction"]), req.action):
            return False
    else:
        return False
    variables = _variables(doc, ctx)
    if "Resource" in stmt:
        if not resource_matches(as_list(stmt["Resource"]), req.resource.arn, variables):
            return False
    elif "NotResource" in stmt:
        if resource_matches(as_list(stmt["NotResource"]), req.resource.arn, variables):
            return False
    return condition_matches(stmt.get("Condition"), ctx, variables)


def names(stmt: Mapping[str, Any], p: Principal) -> str | None:
    """Whom a resource-policy statement's Principal names, as seen from ``p``: "direct" (the
    requester: the user, the role session, or everyone), "role" (the role's ARN),
    "account" (the principal's account), or None."""
    values = principal_values(stmt.get("Principal"))
    if "*" in values or p.request_arn in values or (p.kind == "user" and p.arn in values):
        return "direct"
    if p.kind == "role" and p.arn in values:
        return "role"
    if any(account_of(v) == p.account for v in values):
        return "account"
    return None


def not_principal_spares(stmt: Mapping[str, Any], p: Principal) -> bool:
    """Does a NotPrincipal leave ``p`` out (see the module docstring for the rule)?"""
    if p.boundary is not None:
        return False
    values = principal_values(stmt.get("NotPrincipal"))
    if "*" in values:
        return True
    own = p.arn in values or (p.kind == "role" and p.session_arn in values and p.arn in values)
    return own and any(account_of(v) == p.account for v in values)


def _hits(doc: Document | None, req: Request, ctx: Context, effect: str) -> list[Mapping[str, Any]]:
    return [s for s in statements(doc) if s.get("Effect") == effect and applies(s, doc or {}, req, ctx)]


def _resource_policy_hits(req: Request, ctx: Context, effect: str) -> list[tuple[Mapping[str, Any], str | None]]:
    """(statement, whom it names) for resource-policy statements that apply to ``req``."""
    out = []
    for stmt in _hits(req.resource.policy, req, ctx, effect):
        if "NotPrincipal" in stmt:
            # "NotPrincipal must be used with "Effect":"Deny". Using it with "Effect":"Allow" is not supported."
            if effect == "Deny" and not not_principal_spares(stmt, req.principal):
                out.append((stmt, "not-principal"))
        else:
            whom = names(stmt, req.principal)
            if whom:
                out.append((stmt, whom))
    return out


def _levels_allow(levels: Sequence[Sequence[Document]], req: Request, ctx: Context) -> bool:
    return all(any(_hits(doc, req, ctx, "Allow") for doc in level) for level in levels)


def evaluate(req: Request) -> Decision:
    """Allow or deny one request, with the step of the documented flow that decided it."""
    p, r = req.principal, req.resource
    ctx = request_context(req)
    same_account = p.account == r.account
    identity = [doc for doc in p.identity_policies]
    limits = [d for d in (p.boundary, p.session_policy if p.kind == "role" else None) if d is not None]
    controls = [doc for level in (*p.scps, *r.rcps) for doc in level]

    # 1. Explicit deny anywhere.
    for doc in (*identity, *limits, *controls):
        if _hits(doc, req, ctx, "Deny"):
            return Decision(False, "explicit-deny")
    if _resource_policy_hits(req, ctx, "Deny"):
        return Decision(False, "explicit-deny (resource-based policy)")

    # 2-3. RCPs of the resource's account, SCPs of the principal's: every level must allow.
    if not _levels_allow(r.rcps, req, ctx):
        return Decision(False, "implicit-deny (RCP)")
    if not _levels_allow(p.scps, req, ctx):
        return Decision(False, "implicit-deny (SCP)")

    # 4-7. Resource-based policy, identity-based policies, boundary, session policy.
    granted = {whom for _, whom in _resource_policy_hits(req, ctx, "Allow")}
    identity_allows = any(_hits(doc, req, ctx, "Allow") for doc in identity)
    boundary_ok = p.boundary is None or bool(_hits(p.boundary, req, ctx, "Allow"))
    session_ok = p.kind != "role" or p.session_policy is None or bool(_hits(p.session_policy, req, ctx, "Allow"))
    limits_ok = boundary_ok and session_ok

    if not same_account:
        if not granted:
            return Decision(False, "implicit-deny (cross-account: the resource-based policy does not allow)")
        if not (identity_allows and limits_ok):
            return Decision(False, "implicit-deny (cross-account: the principal's own policies do not allow)")
        return Decision(True, "allow (cross-account: both accounts allow)")

    if "direct" in granted:
        return Decision(True, "allow (resource-based policy names the principal)")
    if "role" in granted and limits_ok:
        return Decision(True, "allow (resource-based policy names the role)")
    if r.strict and not granted:
        return Decision(False, "implicit-deny (key or trust policy does not name the principal or its account)")
    if not identity_allows:
        return Decision(False, "implicit-deny (no identity-based allow)")
    if not boundary_ok:
        return Decision(False, "implicit-deny (permissions boundary)")
    if not session_ok:
        return Decision(False, "implicit-deny (session policy)")
    return Decision(True, "allow (identity-based policy)")
