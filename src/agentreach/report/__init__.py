"""Reports: the findings of one snapshot rendered for people and for other tools.

``render(fmt, report)`` turns a report dict ``{"summary": {...}, "findings": [...], "rules": [...]}``
(the findings engine's output) into text:

- ``md``: summary, then findings by severity with evidence, remediation, frameworks and reach path;
  for a ticket or a chat.
- ``html``: one self-contained page (inline CSS, inline SVG, nothing fetched), for a browser offline.
- ``json``: the report dict as it is, pretty-printed.
- ``csv``: one row per finding.
- ``sarif``: SARIF 2.1.0, for code-scanning dashboards (GitHub's upload rules).
- ``ocsf``: OCSF Detection Findings, for SIEMs, data lakes and AWS Security Hub.

Nothing here computes a verdict: it only shows what the report holds. Every renderer tolerates a
missing optional key (``account``, ``path``, ``frameworks``...) and never mutates the report.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..order import SEVERITIES_DESC as SEVERITIES, most_serious_first
from ..plugins import resolve
from ..registry import registry

# Shown first within their severity: a leaked secret that works now is the most urgent thing a
# report can hold (a presentation order; the severity itself is the findings engine's).
LEAD_RULES = ("AR-SECRET-LEAKED-LIVE",)

Path = list[Mapping[str, Any]]


def subject_paths(findings: Iterable[Mapping[str, Any]]) -> dict[str, tuple[Path, Mapping[str, Any]]]:
    """subject id -> (path, the finding it comes from): what each subject reaches, as the most
    serious of its findings that carries a path shows it (unconditional, then shorter, first)."""
    best: dict[str, tuple[tuple[int, bool, int], Path, Mapping[str, Any]]] = {}
    for finding in findings:
        path = list(finding.get("path") or [])
        subject = one_line(finding.get("subject"))
        if not path or not subject:
            continue
        key = (most_serious_first(finding.get("severity")), any(h.get("conditional") for h in path), len(path))
        if subject not in best or key < best[subject][0]:
            best[subject] = (key, path, finding)
    return {s: (path, f) for s, (_, path, f) in best.items()}


def effective_path(finding: Mapping[str, Any],
                   paths: Mapping[str, tuple[Path, Mapping[str, Any]]]) -> tuple[Path, Mapping[str, Any] | None]:
    """(path, source): the finding's own reach path, else its subject's from another finding (the
    source), so a finding whose subject reaches anything shows it; ([], None) when none does."""
    own = list(finding.get("path") or [])
    if own:
        return own, None
    got = paths.get(one_line(finding.get("subject")))
    return (list(got[0]), got[1]) if got else ([], None)


def risk_key(finding: Mapping[str, Any], paths: Mapping[str, tuple[Path, Mapping[str, Any]]]) -> tuple[Any, ...]:
    """Most urgent first: severity, then the lead rules, then a subject that reaches something
    (unconditionally before conditionally, fewer hops first), then none."""
    path, _ = effective_path(finding, paths)
    rule = one_line(finding.get("rule"))
    lead = LEAD_RULES.index(rule) if rule in LEAD_RULES else len(LEAD_RULES)
    return (most_serious_first(finding.get("severity")), lead, not path,
            any(h.get("conditional") for h in path), len(path))


def by_severity(findings: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """``[(severity, findings), ...]``, critical first, only the severities that occur; within a
    severity by :func:`risk_key` (the report's order among equals)."""
    findings = list(findings)
    paths = subject_paths(findings)
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for finding in findings:
        groups.setdefault(str(finding.get("severity", "info")).lower(), []).append(finding)
    return sorted(((sev, sorted(group, key=lambda f: risk_key(f, paths))) for sev, group in groups.items()),
                  key=lambda item: (most_serious_first(item[0]), item[0]))


def path_chain(path: Sequence[Mapping[str, Any]] | None) -> str:
    """``a -runs_as-> b -can_access-> c``; a conditional hop reads ``-can_assume?->``; where a hop does
    not start at the previous hop's end, ``… x`` marks the break."""
    if not path:
        return ""
    parts = [one_line(path[0].get("from_name") or path[0].get("from"))]
    for prev, hop in zip([None, *path[:-1]], path, strict=True):
        if prev is not None and prev.get("to") != hop.get("from"):  # hops that do not join: show the break
            parts.append(f"… {one_line(hop.get('from_name') or hop.get('from'))}")
        mark = "?" if hop.get("conditional") else ""
        parts.append(f"-{hop.get('edge', '')}{mark}-> {one_line(hop.get('to_name') or hop.get('to'))}")
    return " ".join(parts)


def grant_text(grant: Any) -> str:
    """A hop's grant as one short string: a list joined with commas, None as empty."""
    if grant is None:
        return ""
    if isinstance(grant, (list, tuple)):
        return ", ".join(str(g) for g in grant)
    return str(grant)


def one_line(value: Any) -> str:
    """Any value as one line of text (None as empty)."""
    if value is None:
        return ""
    return " ".join(str(value).split())


def file_locations(finding: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Where a finding's subject is written in files, ``[{path, line, root}]``, in the finding's
    order: its ``locations`` (a report of today), else the single ``location`` an older one has."""
    places = finding.get("locations")
    if places is None:
        places = [finding["location"]] if isinstance(finding.get("location"), Mapping) else []
    return [loc for loc in places if isinstance(loc, Mapping) and loc.get("path")]


def where_text(loc: Mapping[str, Any]) -> str:
    """``path:line`` (or the path alone) of one file location, ``@ <commit>`` when it was
    found in git history (the line is that commit's, the file at HEAD may no longer hold it)."""
    path = one_line(loc.get("path"))
    where = path + (f":{loc['line']}" if loc.get("line") else "")
    return where + (f" @ {one_line(loc['commit'])[:12]}" if loc.get("commit") else "")


def provider_of(finding: Mapping[str, Any]) -> str:
    """The provider of a finding's subject: the first segment of its id."""
    return one_line(finding.get("subject")).split(":", 1)[0]


def finding_text(finding: Mapping[str, Any]) -> str:
    """One paragraph for a tool that shows a finding as a message: title, subject, evidence, reach."""
    parts = [one_line(finding.get("title")) or one_line(finding.get("rule")) or "Finding"]
    subject = one_line(finding.get("subject_name")) or one_line(finding.get("subject"))
    detail = ", ".join(x for x in (one_line(finding.get("subject_type")),
                                   f"account {finding['account']}" if finding.get("account") else "") if x)
    parts.append(f"Subject: {subject}" + (f" ({detail})" if detail else "") + ".")
    evidence = [one_line(e) for e in finding.get("evidence") or [] if one_line(e)]
    if evidence:
        parts.append("Evidence: " + "; ".join(evidence) + ".")
    chain = path_chain(finding.get("path"))
    if chain:
        parts.append(f"Reach: {chain}.")
    if parts[0] and not parts[0].endswith("."):
        parts[0] += "."
    return " ".join(p for p in parts if p)


def tool_version() -> str:
    from .. import __version__

    return str(__version__)


def counts(report: Mapping[str, Any]) -> dict[str, int]:
    """The summary's counts by severity, every severity present; recounted from the findings when
    the summary has none."""
    given = (report.get("summary") or {}).get("counts")
    if given:
        return {sev: int(given.get(sev, 0) or 0) for sev in SEVERITIES}
    out = dict.fromkeys(SEVERITIES, 0)
    for finding in report.get("findings") or []:
        sev = str(finding.get("severity", "")).lower()
        if sev in out:
            out[sev] += 1
    return out


def render_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=False, default=str) + "\n"


def formats(command: str = "report") -> list[str]:
    """The report formats offered on ``command``: the core's and every plugin's."""
    return list(registry().formats(command))


def render(fmt: str, report: Mapping[str, Any]) -> str:
    """The report in ``fmt`` (a registered format). Raises ValueError for an unknown format."""
    known = registry().formats()
    if fmt not in known:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(known)}")
    renderer: Callable[[Mapping[str, Any]], str] = resolve(known[fmt].render, what=f"report format {fmt}")
    return renderer(report)


__all__ = ["LEAD_RULES", "SEVERITIES", "by_severity", "counts", "effective_path", "file_locations", "finding_text",
           "formats", "grant_text", "one_line", "path_chain", "provider_of", "render", "risk_key", "subject_paths",
           "tool_version", "where_text"]
