"""The report as Markdown, for a ticket or a chat message.

Names, ids and reach paths go in code spans (shown as they are, never rendered); other text from
the report has Markdown's and HTML's active characters backslash-escaped, so a name like
``<script>`` or ``[x](y)`` reads as text wherever the Markdown lands.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from ..profiles import readable
from . import (
    SEVERITIES,
    by_severity,
    counts,
    effective_path,
    file_locations,
    one_line,
    path_chain,
    subject_paths,
    where_text,
)

_ACTIVE = re.compile(r"([\\`*_\[\]<>|#!~&])")


def text(value: Any) -> str:
    """Prose from the report, on one line, with Markdown/HTML-active characters escaped."""
    return _ACTIVE.sub(r"\\\1", one_line(value))


def code(value: Any) -> str:
    """A code span that holds ``value`` whatever backticks it contains."""
    body = one_line(value)
    if not body:
        return "—"
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def _summary(report: Mapping[str, Any]) -> list[str]:
    summary = report.get("summary") or {}
    snap = summary.get("snapshot") or {}
    agents = summary.get("agents") or {}
    sev = counts(report)
    lines = ["# agentreach report", ""]
    if snap:
        lines.append(f"Snapshot {code(snap.get('id'))}: {text(snap.get('status'))}, "
                     f"{text(snap.get('started_at'))} → {text(snap.get('finished_at'))}, "
                     f"{snap.get('node_count', 0)} objects, coverage gaps: {snap.get('gap_count', 0)}.")
        lines.append("")
    lines.append(" · ".join(f"**{sev[s]} {s}**" if sev[s] and s in ("critical", "high") else f"{sev[s]} {s}"
                            for s in SEVERITIES))
    if agents:
        lines.append("")
        lines.append(f"Agents: {agents.get('identities', 0)} identities, {agents.get('credentials', 0)} credentials.")
    gaps = summary.get("coverage_gaps") or []
    if gaps:
        lines += ["", f"## Coverage gaps ({len(gaps)})", ""]
        lines.append("What the scan could not see; findings there may be missing.")
        lines.append("")
        for gap in gaps:
            where = "/".join(one_line(gap.get(k)) for k in ("connector", "account", "region") if gap.get(k))
            call = ":".join(one_line(gap.get(k)) for k in ("service", "operation") if gap.get(k))
            lines.append(f"- {code(where)} {code(call)} {text(gap.get('error_code'))}: {text(gap.get('message'))}")
    skipped = [r for r in report.get("rules") or [] if r.get("status") == "skipped"]
    if skipped:
        lines += ["", f"## Rules not evaluated ({len(skipped)})", ""]
        for rule in skipped:
            lines.append(f"- {code(rule.get('rule'))} {text(rule.get('title'))}: {text(rule.get('note'))}")
    return lines


def _finding(finding: Mapping[str, Any], paths: Mapping[str, Any]) -> list[str]:
    lines = [f"#### {text(finding.get('title'))}", ""]
    subject = f"{code(finding.get('subject_name'))} ({code(finding.get('subject_type'))}"
    if finding.get("account"):
        subject += f", account {code(finding.get('account'))}"
    subject += ")"
    lines.append(f"- **Rule:** {code(finding.get('rule'))} · **Severity:** {text(finding.get('severity'))}")
    lines.append(f"- **Subject:** {subject}, id {code(finding.get('subject'))}")
    places = file_locations(finding)
    if places:
        lines.append(f"- **Location{'s' if len(places) > 1 else ''}:** " + ", ".join(code(where_text(loc))
                                                                                for loc in places))
    path, source = effective_path(finding, paths)
    chain = path_chain(path)
    if chain:
        conditional = any(hop.get("conditional") for hop in path)
        lines.append(f"- **Reach:** {code(chain)}" + (" (`?` = conditional hop)" if conditional else "")
                     + (f", what the subject reaches as {code(source.get('rule'))} shows it" if source else ""))
    evidence = finding.get("evidence") or []
    if evidence:
        lines.append("- **Evidence:**")
        lines += [f"  - {text(item)}" for item in evidence]
    if finding.get("remediation"):
        lines.append(f"- **Remediation:** {text(finding.get('remediation'))}")
    lines += _right_sized(finding)
    frameworks = finding.get("frameworks") or []
    if frameworks:
        lines.append(f"- **Frameworks:** {', '.join(text(f) for f in frameworks)}")
    if finding.get("fingerprint"):
        lines.append(f"- **Fingerprint:** {code(finding.get('fingerprint'))}")
    lines.append("")
    return lines


def _right_sized(finding: Mapping[str, Any]) -> list[str]:
    """The grant a drift finding proposes, per identity, as a fenced JSON block (ASCII-escaped,
    fenced longer than any backtick run it holds)."""
    proposal = finding.get("right_sized") or {}
    basis = text(proposal.get("generated_from") or "approved profile ∩ granted")
    out = []
    for grant in proposal.get("grants") or ():
        doc = grant.get("policy") or grant.get("role")
        body = json.dumps(readable(doc), indent=2, ensure_ascii=True)
        fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", body)), default=0))
        out += [f"- **Right-sized grant for {text(grant.get('identity_name'))}** ({basis}):", "",
                f"  {fence}json", *[f"  {ln}" for ln in body.splitlines()], f"  {fence}"]
    return out


def render_md(report: Mapping[str, Any]) -> str:
    lines = _summary(report)
    findings = report.get("findings") or []
    lines += ["", f"## Findings ({len(findings)})", ""]
    if not findings:
        lines += ["No findings.", ""]
    paths = subject_paths(findings)
    for severity, group in by_severity(findings):
        lines += [f"### {text(severity.capitalize())} ({len(group)})", ""]
        for finding in group:
            lines += _finding(finding, paths)
    return "\n".join(lines).rstrip("\n") + "\n"
