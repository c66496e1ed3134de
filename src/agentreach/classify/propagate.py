"""Propagation: verdicts that travel along relations the sources state.

Each propagator looks at one identity or credential and the verdicts found so far, and
returns the one piece of evidence a neighbour's verdict lends it (or nothing). The engine
runs them to a fixed point, so chains carry (a role only an agent's role may assume, a
Lambda an agent's gateway invokes by name). Evidence from an ``agent`` neighbour weighs
more than evidence from a ``possible`` one: a possible agent lends a possibility.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping

from ..model import Identity, Node
from ..view import SnapshotView
from .matchers import _listed, _statements

FROM_AGENT = {"assumed": 0.85, "credential": 0.9, "federated": 0.9, "tool": 0.85}
FROM_POSSIBLE = {"assumed": 0.45, "credential": 0.4, "federated": 0.45, "tool": 0.45}
_SELF_ISSUER = "https://login.microsoftonline.com/"


@dataclass(frozen=True)
class Lent:
    """What one propagator found: the signal, the neighbours, and why."""

    signal: str
    key: str  # which FROM_* weight applies
    role: str
    why: str
    field: str
    via: str
    neighbours: tuple[str, ...]
    object: str | None = None  # where it was read, when not the subject itself


def _state(verdicts: Mapping[str, object], nid: str) -> str:
    v = verdicts.get(nid)
    return getattr(v, "verdict", "none") if v is not None else "none"


def assumed_only_by_agents(node: Node, view: SnapshotView, verdicts: Mapping[str, object]) -> Lent | None:
    """A role whose trust policy names only identities already judged agent or possible
    (no service, account root or ``*``): whoever assumes it is an agent."""
    if node.type != "aws_iam_role":
        return None
    by_arn = view_index(view)
    trusted: list[str] = []
    for stmt in _statements(node.attrs.get("trust_policy")):
        if stmt.get("Effect") != "Allow":
            continue
        principal = stmt.get("Principal")
        if not isinstance(principal, Mapping) or set(principal) != {"AWS"}:
            return None
        for arn in _listed(principal["AWS"]):
            ident = by_arn.get(arn)
            if ident is None or _state(verdicts, ident) == "none":
                return None
            trusted.append(ident)
    if not trusted:
        return None
    return Lent("propagated.assumed-only-by-agents", "assumed", "agent_reachable",
                "only agent identities may assume this role (its trust policy)", "trust_policy",
                "can_assume (trust policy)", tuple(trusted))


def federated_credential_of_agent(node: Node, view: SnapshotView, verdicts: Mapping[str, object]) -> Lent | None:
    """A managed identity that is the federated credential (issuer: Entra itself, subject:
    its principal id) of an application judged agent or possible: the identity's token is
    how that agent signs in, so it is that agent's credential."""
    if node.type != "azure_managed_identity" or not node.native_id:
        return None
    holders = []
    for fic in federated_credentials_by_subject(view).get(str(node.native_id).lower(), []):
        for ident in view.identities_of(fic.id):
            if _state(verdicts, ident) != "none":
                holders.append(ident)
    if not holders:
        return None
    return Lent("propagated.federated-credential-of-agent", "federated", "agent_credential",
                "this managed identity is the federated credential an agent application signs in with",
                "federated credential subject", "authenticates (federated credential)", tuple(dict.fromkeys(holders)))


def tool_of_agent(node: Node, view: SnapshotView, verdicts: Mapping[str, object]) -> Lent | None:
    """The role a Lambda runs as, where an identity judged agent or possible may invoke
    that very function by its ARN (not by a wildcard): the function is that agent's tool
    (an AgentCore gateway's Lambda target, a supervisor's sub-agent)."""
    if node.type != "aws_iam_role":
        return None
    callers = []
    for w in view.workloads_running_as(node.id):
        if w.type != "aws_lambda_function" or not w.native_id:
            continue
        for caller in invokers_by_arn(view).get(w.native_id, []):
            if caller != node.id and _state(verdicts, caller) != "none":
                callers.append(caller)
    if not callers:
        return None
    return Lent("propagated.tool-of-agent", "tool", "agent_tool",
                "an agent identity's policy lets it invoke this role's Lambda by name, so the function is its tool",
                "identity policy of the caller", "lambda:InvokeFunction", tuple(dict.fromkeys(callers)))


PROPAGATORS: tuple[Callable[[Node, SnapshotView, Mapping[str, object]], Lent | None], ...] = (
    assumed_only_by_agents, federated_credential_of_agent, tool_of_agent)


# -- indexes, built once per view -----------------------------------------------------------

def _cached(view: SnapshotView, name: str, build: Callable[[], object]) -> object:
    value = getattr(view, name, None)
    if value is None:
        value = build()
        setattr(view, name, value)
    return value


def view_index(view: SnapshotView) -> dict[str, str]:
    """Identity native id (ARN) -> node id."""
    return _cached(view, "_identity_by_native", lambda: {  # type: ignore[return-value]
        n.native_id: n.id for n in view.nodes.values() if isinstance(n, Identity) and n.native_id})


def federated_credentials_by_subject(view: SnapshotView) -> dict[str, list[Node]]:
    """Entra federated credentials issued by Entra itself, by subject (a principal id)."""
    def build() -> dict[str, list[Node]]:
        out: dict[str, list[Node]] = {}
        for n in view.nodes.values():
            if n.type == "azure_federated_credential" and str(n.attrs.get("issuer") or "").startswith(_SELF_ISSUER):
                out.setdefault(str(n.attrs.get("subject") or "").lower(), []).append(n)
        return out
    return _cached(view, "_fic_by_subject", build)  # type: ignore[return-value]


def _function_arns(doc: Mapping[str, object]) -> Iterator[str]:
    for stmt in _statements(doc):  # type: ignore[arg-type]
        if stmt.get("Effect") != "Allow":
            continue
        actions = [a.lower() for a in _listed(stmt.get("Action"))]
        if not any(fnmatch.fnmatchcase("lambda:invokefunction", a) and a != "*" for a in actions):
            continue
        for res in _listed(stmt.get("Resource")):
            if res.startswith("arn:") and ":function:" in res and "*" not in res and "?" not in res:
                yield res.split(":$")[0]


def invokers_by_arn(view: SnapshotView) -> dict[str, list[str]]:
    """Lambda function ARN -> identities whose own policies grant invoking exactly it."""
    def build() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for n in view.nodes.values():
            if not isinstance(n, Identity) or n.provider != "aws":
                continue
            for _, doc in view.policy_documents(n.id):
                for arn in _function_arns(doc):
                    out.setdefault(arn, []).append(n.id)
        return out
    return _cached(view, "_invokers_by_arn", build)  # type: ignore[return-value]
