"""The evaluator's inputs and output: plain frozen records, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["Access", "PolicyRef", "Principal", "Resource"]


@dataclass(frozen=True)
class PolicyRef:
    """Where a statement came from, shown to a responder as the "grant".

    ``kind`` is one of inline, managed, group-inline, group-managed, boundary, scp,
    resource, trust; ``statement`` is the Sid, else ``#<index>`` (0-based).
    """

    kind: str
    name: str
    statement: str

    @property
    def text(self) -> str:
        """The grant as a responder reads it: "inline read-pii #0", "bucket policy of acme-pii
        AllowRead". A resource or trust policy's name already says what it is, so its kind is
        not said twice ("trust trust policy of ...")."""
        kind = "" if self.kind in ("resource", "trust") else self.kind
        return " ".join(x for x in (kind, self.name, self.statement) if x)


@dataclass(frozen=True)
class Principal:
    """An IAM user or role with every policy that governs it.

    ``scp_levels`` are the SCPs attached at each level of the organization on the way to the
    principal's account, root first and the account last; each level must allow. ``scps``
    is the older flat form (read as a single level) for callers that do not know the
    levels. Both empty means "no Organizations data", not "no SCPs apply".  Whether SCPs
    apply at all (they never restrict the management account) is the caller's concern:
    pass nothing for a management-account principal.
    """

    arn: str
    account: str
    identity_policies: tuple[tuple[PolicyRef, Any], ...] = ()
    boundary: tuple[PolicyRef, Any] | None = None
    scps: tuple[tuple[PolicyRef, Any], ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    scp_levels: tuple[tuple[tuple[PolicyRef, Any], ...], ...] = ()

    @property
    def levels(self) -> tuple[tuple[tuple[PolicyRef, Any], ...], ...]:
        """The SCP levels that apply, root first (the flat ``scps`` as one level)."""
        if self.scp_levels:
            return self.scp_levels
        return (self.scps,) if self.scps else ()


@dataclass(frozen=True)
class Resource:
    """A resource and its resource-based policy (bucket, key, secret, Lambda policy, trust policy).

    An ARN may itself be a pattern (``arn:aws:s3:::acme-pii/*`` = the objects of acme-pii).
    """

    arn: str
    account: str
    policy: Any = None


@dataclass(frozen=True)
class Access:
    """What a principal can do to a resource, and by which statements.

    ``conditional`` is true when some allowed action depends on a condition (or a policy
    variable) that the snapshot cannot decide, including an undecidable Deny;
    ``conditional_actions`` names those actions, the rest are allowed outright.
    """

    actions: frozenset[str]
    level: str
    admin: bool
    conditional: bool
    condition_keys: tuple[str, ...]
    grants: tuple[PolicyRef, ...]
    conditional_actions: frozenset[str] = frozenset()
