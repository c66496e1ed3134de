"""The findings engine: rule metadata, findings, the context rules read, and evaluation.

A rule is one small function with its :class:`RuleMeta` beside it, registered by the
:func:`rule` decorator (Prowler-style: the metadata travels with the check). A rule reads
only a :class:`FindingContext` (inventory view, reach graph, the agent / owner / stale /
sensitivity annotations of one snapshot) and yields :class:`Finding` objects; it never
calls a cloud API and never sees a secret value.

Severities are data: ``config/findings.yaml`` (and a user's ``findings:`` section over it)
can disable a rule, override its base severity, and set the thresholds a rule uses. A rule
that needs a capability the scan lacks (``files`` before the files connector ran) is
reported as *skipped with a note*, never as passing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from ..graph.core import Graph
from ..graph.query import reach
from ..model import Credential, Identity, Node, System
from ..order import SEVERITIES, access_rank, shift
from ..registry import registry
from ..review import Profile
from ..view import SnapshotView
from .activity import ACTIVITY_CAPABILITY as ACTIVITY, ActivityAggregate
from .params import RuleParams

AGENT, POSSIBLE = "agent", "possible"
PROFILES = "profiles"  # capability: the reviewed file declares approved access profiles


@dataclass(frozen=True)
class RuleMeta:
    id: str  # stable, e.g. "AR-AGENT-OWNERLESS"
    title: str
    severity: str  # critical | high | medium | low | info (base severity)
    rationale: str
    remediation: str
    owasp_nhi: str  # e.g. "NHI1:2025 Improper Offboarding"
    nist_csf: str  # e.g. "PR.AA-05"
    requires: tuple[str, ...] = ()  # capabilities: "files", "telemetry" ...
    # The shape of the rule's thresholds (findings.rules.<id> in the config), validated by name.
    params: type[RuleParams] = RuleParams
    # What to do in the subject's own cloud (provider -> text); ``remediation`` otherwise.
    remediation_by: Mapping[str, str] = field(default_factory=dict)

    def remediation_for(self, provider: str | None) -> str:
        return self.remediation_by.get(provider or "", self.remediation)

    @property
    def frameworks(self) -> tuple[str, ...]:
        out = []
        if self.owasp_nhi:
            out.append(f"OWASP-NHI:{self.owasp_nhi.split()[0]}")
        for item in (self.nist_csf or "").replace(",", " ").split():
            out.append(f"NIST-CSF:{item}")
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        skip = ("params", "remediation_by")
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in skip}
        out["remediation_by"] = dict(self.remediation_by)
        return {**out, "requires": list(self.requires), "frameworks": list(self.frameworks),
                "params": sorted(self.params.model_fields)}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    title: str
    subject: str
    subject_name: str
    subject_type: str
    account: str | None
    evidence: tuple[str, ...]  # one line each, saying why, never a secret value
    path: tuple[dict, ...] = ()  # reach hops (hop_json dicts) where reach matters
    frameworks: tuple[str, ...] = ()  # ("OWASP-NHI:NHI1:2025", "NIST-CSF:PR.AA-05")
    remediation: str = ""
    # Where the subject is written in files ({path relative to the scanned root, line, root}):
    # what code-scanning tools annotate.
    locations: tuple[dict, ...] = ()
    # The subject's agent verdict and owner, as the snapshot's annotations say (structured, so
    # a report or a SIEM need not read them out of the evidence lines).
    agent: Mapping[str, Any] = field(default_factory=dict)
    owner: Mapping[str, Any] = field(default_factory=dict)
    # What a finding proposes instead of today's grant (the drift findings: approved profile
    # ∩ granted, agentreach.profiles.right_sized); present in the JSON only where proposed.
    right_sized: Mapping[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Stable across scans and wording: the rule and the subject's id, nothing else."""
        return hashlib.sha256(f"{self.rule}\x1f{self.subject}".encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "severity": self.severity, "title": self.title, "subject": self.subject,
            "subject_name": self.subject_name, "subject_type": self.subject_type, "account": self.account,
            "evidence": list(self.evidence), "path": [dict(h) for h in self.path],
            "frameworks": list(self.frameworks), "remediation": self.remediation, "fingerprint": self.fingerprint,
            "locations": [dict(loc) for loc in self.locations],
            "agent": dict(self.agent), "owner": dict(self.owner),
            **({"right_sized": dict(self.right_sized)} if self.right_sized else {}),
        }


@dataclass
class FindingContext:
    view: SnapshotView
    graph: Graph
    now: dt.datetime
    agent: Mapping[str, dict]
    owner: Mapping[str, dict]
    stale: Mapping[str, dict]
    sensitivity: Mapping[str, dict]
    scanned_accounts: frozenset[str] = frozenset()
    capabilities: frozenset[str] = frozenset()
    # Approved access profiles (node id -> the reviewed file's profile block, as stored with
    # the snapshot) and run-time activity (agentreach.findings.activity; None: not collected).
    profiles: Mapping[str, dict] = field(default_factory=dict)
    activity: tuple[ActivityAggregate, ...] | None = None
    _reach: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        extra = {PROFILES} if self.profiles else set()
        if self.activity is not None:
            extra.add(ACTIVITY)
        if not extra <= self.capabilities:
            self.capabilities = self.capabilities | extra

    @classmethod
    def from_store(cls, store: Any, snapshot_id: int, now: dt.datetime | None = None,
                   view: SnapshotView | None = None,
                   activity: Iterable[ActivityAggregate] | None = None) -> "FindingContext":
        """``view``: the snapshot already loaded (the scan has it), else it is read here.
        ``activity``: the snapshot's activity aggregates (agentreach.findings.activity)."""
        from ..graph.build import load_graph

        info = store.snapshot(snapshot_id)
        view = view or SnapshotView.of_snapshot(store, snapshot_id)
        nodes = list(view.nodes.values())
        if now is None and info is not None:
            now = info.finished_at or info.started_at
        return cls(
            view=view, graph=load_graph(store, snapshot_id), now=now or dt.datetime.now(dt.timezone.utc),
            agent=store.annotations(snapshot_id, "agent"), owner=store.annotations(snapshot_id, "owner"),
            stale=store.annotations(snapshot_id, "stale"), sensitivity=store.annotations(snapshot_id, "sensitivity"),
            scanned_accounts=scanned_accounts_of(nodes),
            capabilities=frozenset(info.connectors) if info is not None else frozenset(),
            profiles=store.annotations(snapshot_id, "profile"),
            activity=tuple(activity) if activity is not None else None,
        )

    # -- what rules ask ------------------------------------------------------------------
    def verdict(self, node_id: str) -> str:
        return (self.agent.get(node_id) or {}).get("verdict") or "none"

    def is_agent(self, node_id: str, include_possible: bool = True) -> bool:
        v = self.verdict(node_id)
        return v == AGENT or (include_possible and v == POSSIBLE)

    def subjects(self, include_possible: bool = True, kinds: tuple[type, ...] = (Identity, Credential)) -> list[Node]:
        """Agent (and possible) identities and credentials, in a stable order; an Entra
        application whose service principal is here too is that principal's finding, not one
        of its own (one agent, two directory objects)."""
        return sorted((n for n in self.view.nodes.values()
                       if isinstance(n, kinds) and self.is_agent(n.id, include_possible)
                       and n.id not in self.folded_applications), key=lambda n: n.id)

    @functools.cached_property
    def folded_applications(self) -> dict[str, str]:
        """Application id -> the id of the service principal it signs in as (both in the view)."""
        return {app.id: sp.id for sp in self.view.nodes.values() if sp.type == "azure_sp"
                for app in self.view.applications_of(sp.id)}

    def profile_of(self, node_id: str) -> tuple[Profile, str] | None:
        """(the approved profile, the id it is declared on) for ``node_id``: its own, else for
        a credential the profile of the identity it authenticates as."""
        for nid in (node_id, *sorted(self.view.identities_of(node_id))):
            body = self.profiles.get(nid)
            if body is not None:
                return self.declared_profile(nid), nid
        return None

    def declared_profile(self, nid: str) -> Profile:
        """The profile the reviewed file declares on ``nid`` (which has one), parsed once."""
        cache = self.__dict__.setdefault("_profiles_parsed", {})
        if nid not in cache:
            cache[nid] = Profile.model_validate(self.profiles[nid])
        return cache[nid]

    def owner_status(self, node_id: str) -> str | None:
        return (self.owner.get(node_id) or {}).get("status")

    def stale_codes(self, node_id: str) -> set[str]:
        return {r.get("code") for r in (self.stale.get(node_id) or {}).get("reasons") or ()}

    def is_stale(self, node_id: str) -> bool:
        return bool((self.stale.get(node_id) or {}).get("value"))

    def reach_of(self, node_id: str) -> list[dict[str, Any]]:
        if node_id not in self._reach:
            n = self.graph.node(node_id)
            self._reach[node_id] = reach(self.graph, n) if n is not None else []
        return self._reach[node_id]

    def sensitive_reach(self, node_id: str, levels: Iterable[str] = ("high", "critical"),
                        min_access: str = "read") -> list[dict[str, Any]]:
        """Reached systems whose sensitivity is in ``levels`` with at least ``min_access``,
        most sensitive and strongest access first."""
        wanted = list(levels)
        hits = [r for r in self.reach_of(node_id)
                if r.get("sensitivity") in wanted and access_rank(r.get("access")) >= access_rank(min_access)]
        order = {lv: i for i, lv in enumerate(("critical", "high", "medium", "low"))}
        return sorted(hits, key=lambda r: (order.get(r.get("sensitivity"), 9), r["conditional"],
                                           -access_rank(r.get("access")), len(r["path"]), r["name"]))

    def name(self, node_id: str) -> str:
        return self.view.name(node_id)

    def finding(self, meta: RuleMeta, node: Node | str, severity: str, evidence: Iterable[str],
                path: Iterable[Mapping[str, Any]] = (), right_sized: Mapping[str, Any] | None = None) -> Finding:
        if isinstance(node, str):
            node_ = self.view.nodes.get(node)
            subject, name, type_, account = node, self.name(node), node_.type if node_ else "unknown", \
                node_.account if node_ else None
            provider = node_.provider if node_ else node.split(":", 1)[0]
        else:
            subject, name, type_, account, provider = node.id, node.name, node.type, node.account, node.provider
        apps = [a for a in self.view.applications_of(subject) if a.id in self.folded_applications]
        if apps:
            evidence = [*evidence, "the same agent as its application registration "
                        + ", ".join(f"{a.name} (client id {a.native_id})" for a in apps)]
        return Finding(rule=meta.id, severity=severity, title=meta.title, subject=subject, subject_name=name,
                       subject_type=type_, account=account, evidence=severity_story(evidence, severity),
                       path=tuple(dict(h) for h in path), frameworks=meta.frameworks,
                       remediation=meta.remediation_for(provider),
                       locations=tuple(self.file_locations(subject)),
                       agent={"verdict": self.verdict(subject),
                              "score": (self.agent.get(subject) or {}).get("score", 0.0)},
                       owner={"name": (self.owner.get(subject) or {}).get("name"),
                              "status": self.owner_status(subject) or "ownerless"},
                       right_sized=dict(right_sized or {}))

    def file_locations(self, node_id: str) -> list[dict[str, Any]]:
        """Where a credential is written in files (a public certificate alone shows none)."""
        out = []
        for e in self.view.out_edges.get(node_id, ()):
            loc = self.view.nodes.get(e["dst"])
            if e["kind"] != "found_in" or (e.get("attrs") or {}).get("public_only") or loc is None:
                continue
            place = {"path": getattr(loc, "path", "") or loc.name, "line": getattr(loc, "line", None),
                     "root": (loc.attrs or {}).get("root")}
            if (loc.attrs or {}).get("commit"):  # found in git history: the line is the commit's, not HEAD's
                place["commit"] = loc.attrs["commit"]
            out.append(place)
        return sorted(out, key=lambda d: (d["path"], d["line"] or 0))


def severity_story(evidence: Iterable[str], final: str) -> tuple[str, ...]:
    """The evidence with its severity steps told once. Rules say each step as its own line
    (``severity raised from high to critical: …``, ``severity high (one below critical): …``);
    when several apply, a reader must not see two verdicts, so they become one line, in
    order, ending where the finding ends: ``severity high: raised from high to critical,
    because …; then high (one below critical), because …``."""
    lines = [e for e in evidence if e]
    steps = [e for e in lines if e.startswith("severity ")]
    if len(steps) < 2:
        return tuple(lines)
    told = []
    for step in steps:
        head, _, why = step.removeprefix("severity ").partition(": ")
        told.append(f"{head}, because {why}" if why else head)
    story = f"severity {final}: " + "; then ".join(told)
    return (*[e for e in lines if not e.startswith("severity ")], story)


def scanned_accounts_of(nodes: Iterable[Node]) -> frozenset[str]:
    """Accounts (subscriptions, projects) the scan looked into: the account system nodes a
    connector emits for what it scanned, else every account an identity lives in."""
    nodes = list(nodes)
    types = registry().scope_types()
    scopes = {n.account or n.native_id for n in nodes if isinstance(n, System) and n.type in types}
    if not scopes:
        scopes = {n.account for n in nodes if isinstance(n, Identity)}
    return frozenset(s for s in scopes if s)


# -- evidence lines shared by rules ------------------------------------------------------

def agent_line(ctx: FindingContext, node_id: str) -> str:
    v = ctx.agent.get(node_id) or {}
    top = sorted(v.get("evidence") or (), key=lambda e: -float(e.get("weight") or 0))
    why = f": {top[0].get('signal')}: {top[0].get('why')}" if top else ""
    return f"agent verdict {v.get('verdict', 'none')} (score {v.get('score', 0)}){why}"


def owner_line(ctx: FindingContext, node_id: str) -> str:
    o = ctx.owner.get(node_id)
    if not o:
        return ""
    ev = list(o.get("evidence") or ())
    detail = ""
    if ev:
        last = ev[-1]
        detail = last.get("note") or f"{last.get('source')} {last.get('field')}={last.get('matched')}"
        if last.get("via"):
            detail += f" (via {last['via']})"
    who = f" {o['name']}" if o.get("name") else ""
    return f"owner{who}: {o.get('status', 'unknown')}" + (f": {detail}" if detail else "")


def stale_lines(ctx: FindingContext, node_id: str, codes: Iterable[str] | None = None) -> list[str]:
    wanted = set(codes) if codes is not None else None
    return [f"{r.get('code')}: {r.get('detail')}" for r in (ctx.stale.get(node_id) or {}).get("reasons") or ()
            if wanted is None or r.get("code") in wanted]


def hop_line(hop: Mapping[str, Any]) -> str:
    grant = hop.get("grant")
    if isinstance(grant, (list, tuple)):
        grant = "; ".join(str(g) for g in grant)
    cond = " (conditional)" if hop.get("conditional") else ""
    granted = f", granted by {grant}" if grant else ""
    return f"{hop.get('from_name')} -{hop.get('edge')}-> {hop.get('to_name')}{granted}{cond}"


def reach_line(r: Mapping[str, Any]) -> str:
    hops = r.get("path") or []
    last = hop_line(hops[-1]) if hops else ""
    return (f"reaches {r.get('sensitivity') or 'unrated'}-sensitivity {r.get('type')} {r.get('name')} "
            f"with {r.get('access')} access{' (conditional)' if r.get('conditional') else ''}"
            f" in {len(hops)} hop(s); last hop {last}")


def possible_demotion(ctx: FindingContext, node_id: str, severity: str) -> tuple[str, list[str]]:
    """One level lower for a ``possible`` agent, with the line that says so."""
    if ctx.verdict(node_id) == POSSIBLE:
        lower = shift(severity, -1)
        return lower, [f"severity {lower} (one below {severity}): the agent verdict is only possible"]
    return severity, []


# -- registry ------------------------------------------------------------------------------

Check = Callable[[FindingContext, RuleMeta, Mapping[str, Any]], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    meta: RuleMeta
    check: Check

    @property
    def id(self) -> str:
        return self.meta.id


RULES: list[Rule] = []


def rule(meta: RuleMeta) -> Callable[[Check], Check]:
    """Register ``check`` under ``meta``: ``check(ctx, meta, params)`` yields findings.
    ``meta`` is the effective one (severity possibly overridden by config)."""
    if meta.severity not in SEVERITIES:
        raise ValueError(f"rule {meta.id}: unknown severity {meta.severity!r}")

    def register(check: Check) -> Check:
        if any(r.id == meta.id for r in RULES):
            raise ValueError(f"rule id {meta.id} registered twice")
        RULES.append(Rule(meta, check))
        return check
    return register


@dataclass(frozen=True)
class RuleResult:
    rule: RuleMeta
    status: str  # "evaluated" | "skipped"
    note: str
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.id, "status": self.status, "note": self.note,
                "findings": [f.to_dict() for f in self.findings]}
