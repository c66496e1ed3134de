"""One small function per signal kind. Each looks at one node (and, through the view, at
what the source states about it) and returns what matched, where: the evidence.

Matchers are pure and never score: weights and verdicts are the engine's job.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Callable, Iterable, Iterator, Mapping

from ..evidence import Sighting
from ..model import Node
from ..view import SnapshotView
from .signals import Signal
from .text import TRUE_VALUES, tag_items, words

# What a matcher returns: one place a signal matched (the shared evidence shape).
Match = Sighting


# What a signal kind's matcher is: the kinds themselves are declared in agentreach.builtin
# (and by plugins), each naming its function here or in its own package.
Matcher = Callable[[Signal, Node, SnapshotView], list[Match]]


def _own(node: Node, field: str, text: str) -> Match:
    return Match(matched=text, field=field, object=node.id, object_name=node.name)


def field_value(node: Node, field: str) -> Any:
    if field == "description":
        return node.attrs.get("description")
    if field.startswith("attrs."):
        return node.attrs.get(field.removeprefix("attrs."))
    return getattr(node, field, None)


def _texts(value: Any) -> Iterator[str]:
    if value is None:
        return
    if isinstance(value, (list, tuple, set)):
        for v in value:
            yield from _texts(v)
    else:
        yield str(value)


def match_field(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    field = sig.params["field"]
    return [_own(node, field, text) for text in _texts(field_value(node, field)) if sig.regex["pattern"].search(text)]


def _user_agent_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """(framework, compiled pattern) of config/user-agents.yaml, in file order."""
    global _UA_PATTERNS
    if _UA_PATTERNS is None:
        from ..config import shipped_data

        data = shipped_data("user-agents.yaml") or {}
        _UA_PATTERNS = [(str(e["framework"]), re.compile(e["pattern"])) for e in data.get("frameworks") or []]
    return _UA_PATTERNS


_UA_PATTERNS: list[tuple[str, re.Pattern[str]]] | None = None


def match_user_agent(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    """Each user agent of the node that names an agent framework (config/user-agents.yaml),
    once: the evidence is the framework and the user agent as the log gave it."""
    field = sig.params["field"]
    out = []
    for text in _texts(field_value(node, field)):
        for framework, pattern in _user_agent_patterns():
            if pattern.search(text):
                out.append(_own(node, field, f"{framework}: {text}"))
                break
    return out


def match_tag(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    out = []
    for key, value in (getattr(node, "tags", None) or {}).items():
        if "key" in sig.regex and not sig.regex["key"].search(key):
            continue
        if "value" in sig.regex and not sig.regex["value"].search(value):
            continue
        out.append(_own(node, f"tags.{key}", f"{key}={value}"))
    return out


def _statements(doc: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The statements that are objects; a Statement of another type (a string, a number) is
    none: the reach step names such documents in a gap, the classifier reads past them."""
    stmts = doc.get("Statement") if isinstance(doc, Mapping) else None
    entries = [stmts] if isinstance(stmts, Mapping) else stmts if isinstance(stmts, list) else []
    return [s for s in entries if isinstance(s, Mapping)]


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _principals(stmt: Mapping[str, Any]) -> list[str]:
    principal = stmt.get("Principal")
    if isinstance(principal, str):
        return [principal]
    if isinstance(principal, Mapping):
        return [p for values in principal.values() for p in _listed(values)]
    return []


def _condition_values(stmt: Mapping[str, Any], suffixes: tuple[str, ...]) -> list[str]:
    out = []
    condition = stmt.get("Condition")
    for block in condition.values() if isinstance(condition, Mapping) else ():
        if isinstance(block, Mapping):
            for key, values in block.items():
                if isinstance(key, str) and key.lower().endswith(suffixes):
                    out.extend(_listed(values))
    return out


def match_trust(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    out = []
    for stmt in _statements(node.attrs.get("trust_policy")):
        if stmt.get("Effect") != "Allow":
            continue
        source_arns = _condition_values(stmt, ("sourcearn",))
        for principal in _principals(stmt):
            if not sig.regex["principal"].search(principal):
                continue
            if sig.params.get("without_source_arn") and source_arns:
                continue
            if "source_arn" in sig.regex:
                hits = [a for a in source_arns if sig.regex["source_arn"].search(a)]
                if not hits:
                    continue
                out.append(_own(node, "trust_policy", f"{principal} with aws:SourceArn {hits[0]}"))
            else:
                out.append(_own(node, "trust_policy", principal))
    return out


def _grants(action_globs: Iterable[str], wanted: Iterable[str]) -> list[tuple[str, str]]:
    out = []
    for glob in action_globs:
        if glob.strip() == "*":
            continue  # an administrator is not an agent: "*" says nothing about AI
        for action in wanted:
            if fnmatch.fnmatchcase(action.lower(), glob.lower()):
                out.append((glob, action))
    return out


def match_policy_action(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    out = []
    wanted = [str(a) for a in sig.params["actions"]]
    for where, doc in view.policy_documents(node.id):
        for stmt in _statements(doc):
            if stmt.get("Effect") != "Allow":
                continue
            for glob, action in _grants(_listed(stmt.get("Action")), wanted):
                text = action if glob == action else f"{action} (by {glob})"
                out.append(_own(node, where, text))
                break
    return out


def match_managed_policy(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    return [Match(matched=name, field=f"attached managed policy{via}", object=node.id, object_name=node.name,
                  via="has_policy")
            for _, name, via in view.managed_policies(node.id) if sig.regex["pattern"].search(name)]


def match_runs_workload(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    return [Match(matched=f"{w.type} {w.name}", field="type", object=w.id, object_name=w.name, via="runs_as")
            for w in view.workloads_running_as(node.id) if sig.regex["workload_type"].search(w.type)]


def match_workload_env(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    out = []
    for w in view.workloads_running_as(node.id):
        names = [n for n in getattr(w, "env_var_names", ()) if sig.regex["pattern"].search(n)]
        if names:
            out.append(Match(matched=", ".join(names), field="env_var_names", object=w.id, object_name=w.name,
                             via="runs_as"))
    return out


def match_workload_image(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    """Container images of workloads that run as this identity (ECS task definitions, Cloud
    Run services, Azure Container Apps keep ``containers[].image``)."""
    out = []
    for w in view.workloads_running_as(node.id):
        images = [str(c.get("image")) for c in w.attrs.get("containers") or ()
                  if isinstance(c, dict) and c.get("image")]
        hits = [i for i in images if sig.regex["pattern"].search(i)]
        if hits:
            out.append(Match(matched=", ".join(hits), field="containers.image", object=w.id, object_name=w.name,
                             via="runs_as"))
    return out


def match_invoked_by_agent(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    out = []
    for w in view.workloads_running_as(node.id):
        for stmt in _statements(w.attrs.get("resource_policy")):
            if stmt.get("Effect") != "Allow":
                continue
            for principal in _principals(stmt):
                if sig.regex["principal"].search(principal):
                    arns = _condition_values(stmt, ("sourcearn",))
                    detail = f"{principal} may invoke it" + (f" from {arns[0]}" if arns else "")
                    out.append(Match(matched=detail, field="resource_policy", object=w.id, object_name=w.name,
                                     via="runs_as"))
    return out


def match_human_console(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    out = []
    if node.attrs.get("mfa_active"):
        out.append(_own(node, "mfa_active", "MFA device enabled"))
    for cred_id in view.credentials_of(node.id):
        cred = view.nodes.get(cred_id)
        if cred is not None and cred.type.endswith("console_password") and getattr(cred, "last_used", None):
            out.append(Match(matched=f"console password used {cred.last_used.date().isoformat()}",
                             field="last_used", object=cred.id, object_name=cred.name, via="authenticates"))
    return out


def match_location(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    out = []
    for loc in view.locations_of(node.id):
        context = str(loc.attrs.get("context") or "")
        if context and sig.regex["pattern"].search(context):
            out.append(Match(matched=f"{context} at {getattr(loc, 'path', loc.name)}", field="context",
                             object=loc.id, object_name=loc.name, via="found_in"))
    return out


# -- word-based text: names, descriptions, tags, of the node and of what runs as it ----------

def _text_fields(node: Node, fields: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(field, text) for each named field; ``tags`` gives each tag as ``key value``."""
    for fname in fields:
        if fname == "tags":
            for key, value in tag_items(getattr(node, "tags", None)):
                yield f"tags.{key}", f"{key} {value}".strip()
        else:
            for text in _texts(field_value(node, fname)):
                yield fname, text


def _subjects(sig: Signal, node: Node, view: SnapshotView) -> Iterator[tuple[Node, str | None]]:
    """The node itself, then (when the signal says ``workloads:``) what runs as it."""
    if sig.params.get("fields"):
        yield node, None
    if sig.params.get("workloads"):
        for w in view.workloads_running_as(node.id):
            yield w, "runs_as"


def match_words(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    """``pattern`` over the words of names, descriptions and tags (``words()``): spelled
    ``AgentTask``, ``agent-task`` or ``agent_task``, all read ``agent task``."""
    out = []
    for subject, via in _subjects(sig, node, view):
        fields = sig.params.get("workloads") if via else sig.params.get("fields")
        found = list(_text_fields(subject, fields or ()))
        if sig.params.get("join"):  # the fields read as one line: resource type and kind together
            found = [(" + ".join(f for f, _ in found), " ".join(t for _, t in found))] if found else []
        for fname, text in found:
            if sig.regex["pattern"].search(words(text)):
                out.append(Match(matched=text, field=fname, object=subject.id, object_name=subject.name, via=via))
    return out


def match_declared_purpose(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    """A tag or label whose key says what a workload is (purpose, workload type, framework,
    role, component ...) and whose value names an AI agent or an agent framework; a bare
    tag (no value, or a true value) whose key itself names one. Keys and values are read as
    words, so ``workload-type=ai-agent``, ``WorkloadType=AIAgent``, ``ai:agent=true``,
    ``agent_framework=crewai`` and the Entra bare tag ``ai-agent`` all match."""
    out = []
    sources: list[tuple[Node, str | None]] = [(node, None)]
    if sig.params.get("workloads"):
        sources += [(w, "runs_as") for w in view.workloads_running_as(node.id)]
    for subject, via in sources:
        for key, value in tag_items(getattr(subject, "tags", None)):
            k, v = words(key), words(value)
            declared = (v not in TRUE_VALUES and sig.regex["key"].search(k) and sig.regex["value"].search(v)) or \
                       (v in TRUE_VALUES and sig.regex["value"].search(k))
            if declared:
                shown = f"{key}={value}" if value else key
                out.append(Match(matched=shown, field=f"tags.{key}", object=subject.id, object_name=subject.name,
                                 via=via))
    return out


# -- federation: who may sign in as this identity from outside ---------------------------------

def _trusted(node: Node, kind: str) -> Iterator[tuple[Mapping[str, Any], str]]:
    """(statement, principal) for each ``kind`` principal (AWS, Service, Federated) an Allow
    statement of the role's trust policy names."""
    for stmt in _statements(node.attrs.get("trust_policy")):
        principal = stmt.get("Principal")
        if stmt.get("Effect") == "Allow" and isinstance(principal, Mapping):
            for value in _listed(principal.get(kind)):
                yield stmt, value


def federated_subjects(node: Node, view: SnapshotView) -> Iterator[tuple[str, str, str, str | None]]:
    """(issuer or provider, subject, field, credential id) of every federated sign-in the
    source states for an identity: AWS trust policies' web-identity conditions (IRSA ``sub``,
    GitHub ``sub`` / ``job_workflow_ref``), EKS Pod Identity associations (a workload that
    names its namespace and service account), GCP service-account bindings that let a workload
    identity pool or a GKE service account act as it, Entra federated credentials."""
    for stmt, provider in _trusted(node, "Federated"):
        for block in (stmt.get("Condition") or {}).values():
            if not isinstance(block, Mapping):
                continue
            for key, values in block.items():
                if str(key).lower().endswith((":sub", ":job_workflow_ref", ":workflow", ":workflow_ref")):
                    for value in _listed(values):
                        yield provider, value, "trust_policy", None
    policy = node.attrs.get("resource_policy") if node.type == "gcp_sa" else None
    for binding in (policy or {}).get("bindings") or []:
        if not str(binding.get("role") or "").endswith(("workloadIdentityUser", "serviceAccountTokenCreator")):
            continue
        for member in binding.get("members") or []:
            member = str(member)
            if member.startswith("principal") or ".svc.id.goog[" in member:
                yield binding.get("role"), member, "resource_policy", None
    for w in view.workloads_running_as(node.id):  # EKS Pod Identity: the association names the subject
        if w.attrs.get("federated_subject"):
            yield str(w.attrs.get("federated_via") or ""), str(w.attrs["federated_subject"]), "pod identity", w.id
    for cred_id in view.credentials_of(node.id):
        cred = view.nodes.get(cred_id)
        if cred is not None and cred.type == "azure_federated_credential":
            yield str(cred.attrs.get("issuer") or ""), str(cred.attrs.get("subject") or ""), "subject", cred.id


def match_federation_subject(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    """``subject``: regex over the words of a federated subject (a Kubernetes namespace and
    service account, a GitHub repository, environment or workflow); ``issuer``: regex the
    issuer or provider must match (optional). ``self_issued: true`` matches an Entra
    federated credential whose issuer is Entra itself (a managed identity as credential)."""
    out = []
    for issuer, subject, fname, cred in federated_subjects(node, view):
        if "issuer" in sig.regex and not sig.regex["issuer"].search(issuer):
            continue
        if sig.params.get("self_issued"):
            if not re.search(r"^https://login\.microsoftonline\.com/[^/]+/v2\.0/?$", issuer):
                continue
        elif "subject" in sig.regex and not sig.regex["subject"].search(words(subject)):
            continue
        obj = view.nodes.get(cred) if cred else node
        via = None if not cred else "runs_as" if fname == "pod identity" else "authenticates"
        out.append(Match(matched=f"{subject} (issuer {issuer})" if issuer else subject, field=fname,
                         object=obj.id if obj else node.id, object_name=obj.name if obj else node.name, via=via))
    return out


# -- configuration values, grants and credentials elsewhere ------------------------------------

def match_env_value(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    """``name`` (regex over variable names) and ``value`` (regex over their values) for the
    allow-listed, non-secret values a connector kept (``attrs.env_values``) of the
    workloads that run as this identity. Every other value was never read."""
    out = []
    for w in view.workloads_running_as(node.id):
        for name, value in sorted((w.attrs.get("env_values") or {}).items()):
            if sig.regex["name"].search(name) and sig.regex["value"].search(str(value)):
                out.append(Match(matched=f"{name}={value}", field="env_values", object=w.id, object_name=w.name,
                                 via="runs_as"))
    return out


def match_granted_action(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    """``actions``: concrete Azure actions or data actions; matches when the role
    assignments' ``attrs.granted_actions`` grant one, wildcards honoured (``*`` alone does
    not count, as for AWS: an owner of everything is not an agent)."""
    granted = [str(a) for a in node.attrs.get("granted_actions") or []]
    return [_own(node, "granted_actions", action if glob == action else f"{action} (by {glob})")
            for glob, action in _grants(granted, [str(a) for a in sig.params["actions"]])][:3]


def _gcp_grants(view: SnapshotView) -> dict[str, list[tuple[str, str]]]:
    """Policy member -> (role, resource name) over every GCP IAM policy the snapshot holds
    (organization, folders, projects, buckets, secrets, service accounts); built once per view."""
    index = getattr(view, "_gcp_grants", None)
    if index is None:
        index = {}
        for n in view.nodes.values():
            if n.provider != "gcp":
                continue
            policy = getattr(n, "resource_policy", None) or n.attrs.get("resource_policy")
            for binding in (policy or {}).get("bindings") or []:
                for member in binding.get("members") or []:
                    index.setdefault(str(member).lower(), []).append((str(binding.get("role") or ""), n.name))
        view._gcp_grants = index  # type: ignore[attr-defined]  # the view is per snapshot; so is this
    return index


def match_gcp_role(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    """``roles``: regex over the GCP roles granted to this service account or principal
    anywhere in the snapshot's IAM policies."""
    email = str(node.native_id or "").lower()
    members = [f"serviceaccount:{email}", email] if "@" in email else [email]
    out = []
    for member in members:
        for role, where in _gcp_grants(view).get(member, []):
            if sig.regex["roles"].search(role):
                out.append(_own(node, f"IAM policy of {where}", role))
    return out[:3]


def match_credential_location(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    """``pattern`` over the context of the file locations where a credential of this
    identity was found (an access key in an agent project's ``.env``, a key in an MCP
    client config): the files say what the live identity is used for."""
    out = []
    for cred_id in view.credentials_of(node.id):
        for loc in view.locations_of(cred_id):
            context = str(loc.attrs.get("context") or "")
            if context and sig.regex["pattern"].search(context):
                out.append(Match(matched=f"{context} at {getattr(loc, 'path', loc.name)}", field="context",
                                 object=loc.id, object_name=loc.name, via="authenticates, found_in"))
    return out


def match_vendor_trust(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    """A role another AWS account may assume: ``accounts`` (a list, data) names vendors'
    accounts; ``external_id: true`` needs an ``sts:ExternalId`` condition (how SaaS vendors
    are given roles) and ``description`` (regex over the role's description words) says
    which vendor it is for."""
    accounts = {str(a) for a in sig.params.get("accounts") or []}
    own = str(node.account or "")
    out = []
    for stmt, arn in _trusted(node, "AWS"):
        account = arn.split(":")[4] if arn.startswith("arn:") and arn.count(":") >= 5 else arn
        if not account.isdigit() or account == own:
            continue
        if accounts and account in accounts:
            out.append(_own(node, "trust_policy", f"{arn} (a listed vendor account)"))
            continue
        if sig.params.get("external_id") and not _condition_values(stmt, ("externalid",)):
            continue
        if "description" in sig.regex and sig.regex["description"].search(words(node.attrs.get("description"))):
            out.append(_own(node, "trust_policy", f"{arn} with an ExternalId, described as "
                                                  f"{node.attrs.get('description')!r}"))
    return out


def match_all_of(sig: Signal, node: Node, view: SnapshotView) -> list[Match]:
    """Corroboration: matches when every signal named in ``signals`` matches this node.
    Some pairs say much more together than apart (a word "agent" in a role's name and the
    right to call models: monitoring and build agents do not call models), and log-odds
    addition alone cannot say so. The match names what each part matched."""
    parts = []
    for group in sig.params.get("_components") or ():
        for component in group:
            if not component.applies(node.kind.value, node.provider):
                continue
            found = component.matcher(component, node, view)
            if found:
                parts.append(f"{component.id}: {found[0].matched}")
                break
        else:
            return []
    return [_own(node, "corroborated", "; ".join(parts))] if parts else []
