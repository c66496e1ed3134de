"""Helpers the rules share: which objects a rule looks at, and the facts that raise a
severity (no owner, stale, reaches a sensitive system), each with the line that says so."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ...model import Credential, CredentialStatus, Identity, Node
from ..base import FindingContext, reach_line

OWNER_PROBLEMS = ("ownerless", "orphaned")
CONTROL_CLASSES = frozenset({"permissions-management", "admin"})


def trust_statements(ident: Identity) -> list[tuple[int, Mapping[str, Any]]]:
    """A role's trust policy as its Allow statements with their index (one statement or a
    list, as IAM accepts). A document of the wrong shape (a number for ``Statement``) yields
    none: the policy parser reports the document, and a rule must not stop the findings step."""
    doc = ident.attrs.get("trust_policy") or {}
    stmts = doc.get("Statement") if isinstance(doc, Mapping) else None
    stmts = [stmts] if isinstance(stmts, Mapping) else (stmts if isinstance(stmts, list) else [])
    return [(i, s) for i, s in enumerate(stmts) if isinstance(s, Mapping) and s.get("Effect") == "Allow"]


def include_possible(params: Mapping[str, Any]) -> bool:
    return bool(params.get("include_possible", True))


def primary_subjects(ctx: FindingContext, possible: bool = True) -> list[Node]:
    """Agent identities, and agent credentials whose identity is not one already (a key of
    an agent user is covered by the user's finding, which names the key; a file's copy of a
    live key is covered by the key)."""
    subjects = ctx.subjects(possible)
    ids = {n.id for n in subjects if isinstance(n, Identity)}
    subject_ids = {n.id for n in subjects}

    def covered(cred_id: str) -> bool:
        return any(i in ids for i in ctx.view.identities_of(cred_id))

    # A secret found in a file that is a live key is that key: its identity's finding (and
    # AR-SECRET-LEAKED-LIVE, which names the file) covers it, rather than a copy per half.
    return [n for n in subjects if isinstance(n, Identity)
            or not (covered(n.id) or any(c in subject_ids or covered(c) for c in ctx.view.live_copies_of(n.id)))]


def active_credentials(ctx: FindingContext, identity_id: str) -> list[Credential]:
    out = []
    for cid in ctx.view.credentials_of(identity_id):
        c = ctx.view.nodes.get(cid)
        if isinstance(c, Credential) and c.status == CredentialStatus.ACTIVE:
            out.append(c)
    return sorted(out, key=lambda c: c.id)


@dataclass
class Risk:
    """Why a subject is unmanaged and what it reaches: the facts escalation rests on."""

    owner_status: str | None
    stale: list[str] = field(default_factory=list)  # evidence lines, empty: not stale
    sensitive: list[dict[str, Any]] = field(default_factory=list)

    @property
    def unowned(self) -> bool:
        return self.owner_status in OWNER_PROBLEMS


def risk_of(ctx: FindingContext, node: Node, params: Mapping[str, Any]) -> Risk:
    levels = params.get("sensitive_levels") or ("high", "critical")
    min_access = params.get("min_access") or "read"
    stale = [f"{ln}" for ln in _stale_lines(ctx, node.id)] if ctx.is_stale(node.id) else []
    if isinstance(node, Identity):
        for c in active_credentials(ctx, node.id):
            if ctx.is_stale(c.id):
                stale += [f"its credential {c.name}: {ln}" for ln in _stale_lines(ctx, c.id)]
    sensitive = [r for r in ctx.sensitive_reach(node.id, levels, min_access) if controls_data(r)]
    return Risk(ctx.owner_status(node.id), stale, sensitive)


def controls_data(row: Mapping[str, Any]) -> bool:
    """Whether a reach row touches what the system holds: reading or changing its data, or
    deciding who may (permissions-management, admin), which is one policy edit away from the
    data. Reading a bucket's policy or a vault's settings is not reaching its data."""
    if row.get("data_access", True):
        return True
    return bool(CONTROL_CLASSES.intersection(row.get("classes") or ()))


def _stale_lines(ctx: FindingContext, node_id: str) -> list[str]:
    codes = {"unused", "never_used", "identity_unused"}
    reasons = (ctx.stale.get(node_id) or {}).get("reasons") or ()
    return [f"stale ({r.get('code')}): {r.get('detail')}" for r in reasons if r.get("code") in codes]


def sensitive_summary(hits: list[dict[str, Any]], limit: int = 3) -> list[str]:
    if not hits:
        return []
    lines = [reach_line(h) for h in hits[:limit]]
    if len(hits) > limit:
        lines.append(f"and {len(hits) - limit} more sensitive system(s): "
                     + ", ".join(h["name"] for h in hits[limit:limit + 5]) + ("…" if len(hits) > limit + 5 else ""))
    return lines
