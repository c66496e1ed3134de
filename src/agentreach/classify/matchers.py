"""One small function per signal kind. Each looks at one node (and, through the view, at
what the source states about it) and returns what matched, where: the evidence.

Matchers are pure and never score: weights and verdicts are the engine's job.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Callable, Iterable, Iterator, Mapping

from ..evidence import Sighting
from ..model import Node
from ..view import SnapshotView
from .signals import Signal

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
    stmts = (doc or {}).get("Statement") or []
    return [s for s in ([stmts] if isinstance(stmts, Mapping) else stmts) if isinstance(s, Mapping)]


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
    for block in (stmt.get("Condition") or {}).values():
        if isinstance(block, Mapping):
            for key, values in block.items():
                if key.lower().endswith(suffixes):
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
