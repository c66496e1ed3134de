"""Secrets found in files (NHI2 Secret Leakage). Both rules need the files connector; until
a scan includes it they are reported as skipped, never as passing."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ...model import Credential, CredentialStatus, Node
from ..base import Finding, FindingContext, RuleMeta, agent_line, owner_line, rule, shift

LEAKED = RuleMeta(
    id="AR-SECRET-IN-FILES",
    title="Secret found in files",
    severity="high",
    rationale="A key or token in source, config or a notebook is readable by anyone with the files and "
              "survives in history after it is deleted.",
    remediation="Revoke or rotate the secret, remove it from the file and its history, and load it from a "
                "secret manager or workload identity instead.",
    owasp_nhi="NHI2:2025 Secret Leakage",
    nist_csf="PR.AA-01",
    requires=("files",),
)

LEAKED_LIVE = RuleMeta(
    id="AR-SECRET-LEAKED-LIVE",
    title="Leaked secret matches a live credential",
    severity="critical",
    rationale="The secret in the file is a credential the cloud inventory shows as active: whoever reads "
              "the file can act as its identity now.",
    remediation="Deactivate the credential now, check its use since the file was written, then replace it "
                "with a short-lived credential.",
    owasp_nhi="NHI2:2025 Secret Leakage",
    nist_csf="PR.AA-01",
    requires=("files",),
)


def _where(ctx: FindingContext, node: Node) -> list[str]:
    out = []
    for loc in sorted(ctx.view.locations_of(node.id), key=lambda n: n.id):
        path = getattr(loc, "path", "") or loc.name
        line = getattr(loc, "line", None)
        out.append(f"found in {path}{f':{line}' if line else ''}")
    return out


def _live_match(ctx: FindingContext, node: Credential) -> Credential | None:
    """The inventory credential a found secret is (itself, when the files connector emitted
    a found_in edge from the cloud credential's own id; or the one ``attrs.matches`` names)."""
    if node.provider != "files" and node.status == CredentialStatus.ACTIVE:
        return node
    for mid in node.attrs.get("matches") or ():
        other = ctx.view.nodes.get(mid)
        if isinstance(other, Credential) and other.provider != "files" and other.status == CredentialStatus.ACTIVE:
            return other
    return None


def _found(ctx: FindingContext) -> list[Credential]:
    return sorted((n for n in ctx.view.nodes.values()
                   if isinstance(n, Credential) and ctx.view.locations_of(n.id)), key=lambda n: n.id)


@rule(LEAKED)
def secret_in_files(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    for node in _found(ctx):
        if _live_match(ctx, node) is not None:
            continue  # AR-SECRET-LEAKED-LIVE says it, one level up
        detector = node.attrs.get("detector")
        severity, why = meta.severity, []
        if ctx.is_agent(node.id):
            severity = shift(meta.severity, +1) if ctx.verdict(node.id) == "agent" else meta.severity
            if severity != meta.severity:
                why.append(f"severity raised to {severity}: an agent's credential")
        yield ctx.finding(meta, node, severity, [
            *_where(ctx, node), f"detector {detector}" if detector else "", agent_line(ctx, node.id),
            owner_line(ctx, node.id), *why])


@rule(LEAKED_LIVE)
def secret_leaked_live(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    for node in _found(ctx):
        live = _live_match(ctx, node)
        if live is None:
            continue
        idents = ", ".join(ctx.name(i) for i in ctx.view.identities_of(live.id)) or "an unknown identity"
        used = f"last used {live.last_used.date()}" if live.last_used else "no recorded use"
        yield ctx.finding(meta, live, meta.severity, [
            *_where(ctx, node), f"matches active credential {live.name} ({live.type}) of {idents}, {used}",
            agent_line(ctx, live.id), owner_line(ctx, live.id)])
