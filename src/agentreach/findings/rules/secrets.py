"""Secrets found in files (NHI2 Secret Leakage). Both rules need the files connector; until
a scan includes it they are reported as skipped, never as passing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterator, Mapping

from ...model import Credential, CredentialStatus, Node, System
from ...order import severity_rank, shift
from ..base import Finding, FindingContext, RuleMeta, agent_line, owner_line, reach_line, rule

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
    remediation_by={
        "aws": "Deactivate the access key now (aws iam update-access-key --status Inactive), check "
                 "CloudTrail for its use since the file was written, then move the workload to a role.",
        "azure": "Remove the client secret from the application now, check the service principal's sign-ins "
                 "since the file was written, then move the workload to a managed identity or a federated "
                 "credential.",
        "gcp": "Disable and delete the service-account key now, check its use in Cloud Audit Logs since the "
                 "file was written, then move the workload to workload identity federation.",
    },
)
# When the live thing is a cloud secret whose value the file holds (--match-secret-values).
SECRET_REMEDIATION = {
    "aws": "Rotate the secret now (aws secretsmanager rotate-secret, or put-secret-value and change the system "
           "it unlocks), remove it from the file and its history, and check who read it (CloudTrail "
           "GetSecretValue) since the file was written.",
    "azure": "Set a new version of the Key Vault secret and change the system it unlocks, remove it from the "
             "file and its history, and check the vault's SecretGet audit events since the file was written.",
    "gcp": "Add a new version of the secret, change the system it unlocks, disable the old version, remove it "
           "from the file and its history, and check AccessSecretVersion in Data Access audit logs.",
}


IN_METADATA = RuleMeta(
    id="AR-SECRET-IN-METADATA",
    title="Secret written in cloud metadata",
    severity="high",
    rationale="A key or token in a tag, a description or an application's notes is readable by everyone who "
              "may list the object (read-only auditors, inventory tools, this tool's own reports), and it is "
              "kept in the provider's change history.",
    remediation="Rotate the secret, remove it from the tag or description, and give the workload a secret "
                "manager reference or a workload identity instead.",
    owasp_nhi="NHI2:2025 Secret Leakage",
    nist_csf="PR.AA-01",
    remediation_by={
        "aws": "Rotate the secret, remove the tag (aws iam untag-role / untag-user, or the service's untag call) or "
               "edit the description, and read the secret from Secrets Manager at run time.",
        "azure": "Rotate the secret, remove it from the application's tags, notes or description (Graph PATCH), and "
                 "read it from Key Vault through a managed identity.",
        "gcp": "Rotate the secret, remove it from the label or description, and read it from Secret Manager through "
               "the workload's service account.",
    },
)


def _where(ctx: FindingContext, node: Node) -> list[str]:
    out = []
    for loc in sorted(ctx.view.locations_of(node.id), key=lambda n: n.id):
        path = getattr(loc, "path", "") or loc.name
        line = getattr(loc, "line", None)
        out.append(f"found in {path}{f':{line}' if line else ''}")
    return out


def _leaks(ctx: FindingContext, node_id: str) -> list:
    """found_in edges out of a node that show a secret; one marked ``public_only`` (a public
    certificate sitting in a file) links it to the file but is no leak."""
    return [e for e in ctx.view.out_edges.get(node_id, ())
            if e["kind"] == "found_in" and not (e.get("attrs") or {}).get("public_only")]


def _live_match(ctx: FindingContext, node: Credential) -> Credential | System | None:
    """The inventory credential a found secret is: itself, when a cloud credential has a
    found_in edge (graph/links.py matched its public id); the cloud credential with a
    found_in edge into the same location; or the one ``attrs.matches`` names. Else the cloud
    secret whose current value it is (graph/links.py matched the value's identity, read with
    --match-secret-values): a secret manager's value is live while it is the current version."""
    if node.provider != "files" and node.status == CredentialStatus.ACTIVE:
        return node
    mids = list(node.attrs.get("matches") or ())
    secrets: list[str] = []
    for edge in _leaks(ctx, node.id):
        for e in ctx.view.in_edges.get(edge["dst"], ()):
            attrs = e.get("attrs") or {}
            if e["kind"] != "found_in" or attrs.get("public_only"):
                continue
            (secrets if attrs.get("via") == "secret value" and attrs.get("file_credential") == node.id
             else mids).append(e["src"])
    for mid in mids:
        other = ctx.view.nodes.get(mid)
        if isinstance(other, Credential) and other.provider != "files" and other.status == CredentialStatus.ACTIVE:
            return other
    for sid in sorted(set(secrets)):
        other = ctx.view.nodes.get(sid)
        if isinstance(other, System):
            return other
    return None


def _value_evidence(ctx: FindingContext, secret: System) -> list[str]:
    """The links' own lines: which part of which version matched, read with what."""
    return sorted({str((e.get("attrs") or {}).get("evidence")) for e in ctx.view.out_edges.get(secret.id, ())
                   if e["kind"] == "found_in" and (e.get("attrs") or {}).get("evidence")})


def _readers(ctx: FindingContext, secret: System) -> str:
    """Who else holds the secret: every identity and credential that may read its value."""
    from ...graph.query import who_can_reach

    start = ctx.graph.node(secret.id)
    rows = [r for r in who_can_reach(ctx.graph, start) if r.get("data_access")] if start is not None else []
    if not rows:
        return "no identity agentreach saw may read its value"
    names = sorted({r["name"] for r in rows})
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return (f"{len(names)} identities and credentials may read its value ({', '.join(names[:5])}{more}; "
            f"agentreach who-can-reach {secret.native_id or secret.id})")


def _found(ctx: FindingContext) -> list[Credential]:
    return sorted((n for n in ctx.view.nodes.values()
                   if isinstance(n, Credential) and ctx.view.locations_of(n.id) and _leaks(ctx, n.id)),
                  key=lambda n: n.id)


def _verified_line(node: Node) -> str:
    v = node.attrs.get("verified")
    if not isinstance(v, Mapping) or not v.get("result"):
        return ""
    return f"verified {v['result']} by {v.get('verifier') or 'no verifier'} at {v.get('at')}"


@rule(LEAKED)
def secret_in_files(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    for node in _found(ctx):
        if _live_match(ctx, node) is not None:
            continue  # AR-SECRET-LEAKED-LIVE says it, one level up
        detector = node.attrs.get("detector")
        severity, why = meta.severity, []
        verified = (node.attrs.get("verified") or {}).get("result")
        if verified == "valid":
            severity = "critical"  # checked live: whoever reads the file can use it now
            why.append("severity raised to critical: the secret works (checked live with --verify)")
        elif node.attrs.get("likely_test_fixture"):
            if severity_rank(severity) > severity_rank("low"):
                severity = "low"
            why.append(f"severity lowered to {severity}: likely a test fixture "
                       f"({node.attrs.get('test_fixture_reason') or 'test path or made-up value'})")
        elif ctx.is_agent(node.id):
            severity = shift(meta.severity, +1) if ctx.verdict(node.id) == "agent" else meta.severity
            if severity != meta.severity:
                why.append(f"severity raised to {severity}: an agent's credential")
        yield ctx.finding(meta, node, severity, [
            *_where(ctx, node), f"detector {detector}" if detector else "", _verified_line(node),
            agent_line(ctx, node.id), owner_line(ctx, node.id), *why])


@rule(LEAKED_LIVE)
def secret_leaked_live(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    secrets_done: set[str] = set()
    for node in _found(ctx):
        live = _live_match(ctx, node)
        if live is None:
            continue
        if isinstance(live, System):
            if live.id in secrets_done:
                continue  # its password and its user name in two files: one finding names both
            secrets_done.add(live.id)
            where = [w.removeprefix("found in ") for w in _where(ctx, live)]
            finding = ctx.finding(meta, live, meta.severity, [
                f"the current value of the {live.type} {live.name} is written in {', '.join(where) or 'a file'}",
                *_value_evidence(ctx, live), *_where(ctx, live), _readers(ctx, live),
                agent_line(ctx, node.id), owner_line(ctx, live.id)])
            yield replace(finding, remediation=SECRET_REMEDIATION.get(live.provider, finding.remediation))
            continue
        idents = ", ".join(ctx.name(i) for i in ctx.view.identities_of(live.id)) or "an unknown identity"
        used = f"last used {live.last_used.date()}" if live.last_used else "no recorded use"
        where = [w.removeprefix("found in ") for w in _where(ctx, node)]
        # What the leaked key unlocks: its most sensitive, strongest reach, hop by hop.
        reached = ctx.sensitive_reach(live.id, min_access="list") or ctx.reach_of(live.id)
        yield ctx.finding(meta, live, meta.severity, [
            f"the active {live.type} {live.name} of {idents} ({used}) is written in {', '.join(where) or 'a file'}",
            *_where(ctx, node), reach_line(reached[0]) if reached else "it reaches nothing agentreach saw",
            agent_line(ctx, live.id), owner_line(ctx, live.id)], path=reached[0]["path"] if reached else ())


@rule(IN_METADATA)
def secret_in_metadata(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    for node in sorted(ctx.view.nodes.values(), key=lambda n: n.id):
        found = node.attrs.get("secrets_in_metadata") or ()
        if not found:
            continue
        lines = [f"{f.get('detector')} in {f.get('field')} (shown as {f.get('preview')})" for f in found]
        severity = "critical" if ctx.verdict(node.id) == "agent" else meta.severity
        why = [f"severity raised to critical: on an agent's {node.type}"] if severity != meta.severity else []
        yield ctx.finding(meta, node, severity, [*lines, agent_line(ctx, node.id), owner_line(ctx, node.id), *why])
