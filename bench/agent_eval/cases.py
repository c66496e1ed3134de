"""The labelled case of the independent benchmark and the checks its data must pass.

Kept apart from the translation into records so that the data-integrity test and the
evaluation read one definition of what a valid case is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

LABELS = ("agent", "not_agent")
CLOUDS = ("aws", "azure", "gcp")
# The kinds of evidence real estates carry (issue 15): what the SOURCE of a case contains.
EVIDENCE_CLASSES = {
    "declared_purpose": "tags / labels that say what it is (workload-type=ai-agent, framework tags, Entra tags)",
    "text_config": "frameworks named in descriptions, notes and non-secret configuration (env var names, model ids)",
    "cross_source": "a key of this identity found in files of an agent project",
    "federation": "IRSA / Pod Identity to an agent namespace, OIDC whose subject names an AI agent workflow",
    "tool_executor": "a tool or MCP host that agents invoke (resource policy naming Bedrock agents, gateways)",
    "propagation": "assumable only by agent identities",
    "third_party_vendor": "cross-account or multi-tenant access granted to an AI vendor",
    "cloud_runtime": "cloud-specific agent runtimes and grants (Bedrock agents, AgentCore, Vertex, Foundry)",
    "name_pattern": "names that follow an agent tool's naming convention",
}
PROVENANCE_KEYS = ("repository", "path", "commit", "note")


def check_record_keys(case: "Case", records: Mapping[str, Any], read: frozenset[str], unread: frozenset[str],
                      where: str = "records") -> None:
    """A case names only record kinds its cloud's loader knows: ``read`` ones become API
    answers the connector transforms; ``unread`` ones are what the source defines but no
    connector reads yet (kept so the case stays faithful, and so a connector that learns
    to read them changes the benchmark without touching it). Anything else is a typo."""
    unknown = sorted(set(records) - read - unread)
    if unknown:
        raise CaseError(f"{case.file}: case {case.id}: unknown {where} key {', '.join(unknown)}")


def env_names(env: Any) -> list[str]:
    """Variable names of an ``env`` list whose items are ``NAME`` or ``{NAME: value}``
    (a value only where the source gives a non-secret one)."""
    out = []
    for item in env or []:
        out.extend(item.keys() if isinstance(item, Mapping) else [item])
    return sorted(str(n) for n in out)


def env_values(env: Any) -> dict[str, str]:
    """The non-secret values an ``env`` list gives (``{NAME: value}`` items)."""
    return {str(k): str(v) for item in env or [] if isinstance(item, Mapping) for k, v in item.items()}


class CaseError(ValueError):
    """A benchmark case that does not say what it must (one line naming the case)."""


@dataclass(frozen=True)
class Case:
    id: str
    cloud: str
    label: str
    lookalike: bool
    evidence_classes: tuple[str, ...]
    provenance: Mapping[str, Any]
    subject: str
    note: str = ""
    records: Mapping[str, Any] = field(default_factory=dict)
    file: str = ""

    @property
    def name(self) -> str:  # the eval's misclassified list prints names, as for our own estate
        return self.id

    @property
    def trap(self) -> bool:
        return self.lookalike


def case_from(item: Mapping[str, Any], defaults: Mapping[str, Any], file: str) -> Case:
    """One case from its YAML mapping, the file's ``source`` filling provenance gaps."""
    cid = str(item.get("id") or "")
    where = f"{file}: case {cid or '<no id>'}"
    if not cid:
        raise CaseError(f"{where}: no id")
    label = item.get("label")
    if label not in LABELS:
        raise CaseError(f"{where}: label {label!r} is not one of {', '.join(LABELS)}")
    cloud = item.get("cloud")
    if cloud not in CLOUDS:
        raise CaseError(f"{where}: cloud {cloud!r} is not one of {', '.join(CLOUDS)}")
    classes = tuple(item.get("evidence_classes") or ())
    unknown = [c for c in classes if c not in EVIDENCE_CLASSES]
    if unknown:
        raise CaseError(f"{where}: unknown evidence class {', '.join(unknown)}")
    if label == "agent" and not classes:
        raise CaseError(f"{where}: an agent case names the evidence classes its source contains")
    if label == "not_agent" and classes:
        raise CaseError(f"{where}: evidence classes are for agent cases")
    prov = {**{k: defaults.get(k) for k in ("repository", "commit", "url")}, **(item.get("provenance") or {})}
    prov = {k: v for k, v in prov.items() if v}
    if not (prov.get("repository") or prov.get("url")) or not prov.get("path") and not prov.get("url"):
        raise CaseError(f"{where}: provenance needs a repository and path (or the url of a stored page)")
    if prov.get("repository") and not prov.get("commit"):
        raise CaseError(f"{where}: provenance of a repository needs the commit read")
    if not item.get("subject"):
        raise CaseError(f"{where}: no subject (the record the label is about)")
    return Case(id=cid, cloud=cloud, label=label, lookalike=bool(item.get("lookalike", False)),
                evidence_classes=classes, provenance=prov, subject=str(item["subject"]),
                note=str(item.get("note") or ""), records=dict(item.get("records") or {}), file=file)
