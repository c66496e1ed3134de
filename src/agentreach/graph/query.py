"""The responder's questions: what can this reach, who can reach that, how are they linked.

A reach path runs credential -authenticates-> identity -can_assume-> role … -can_access->
system; a workload enters it through -runs_as->, a group's member through -member_of->.
Every hop carries the grant that makes it (a policy statement, a trust policy), so an answer
can be checked by hand.

What is asked of the last hop is a :class:`Want`: an access level or better (``read`` …, the
older form), an access class (``read-data``, ``write-data``, ``read-metadata``,
``write-config``, ``permissions-management``, ``admin``, or ``data`` for either data class),
and/or an action (``s3:GetObject``, PMapper's "who can do ACTION with RESOURCE", wildcards
allowed). A row says the classes it holds, the actions behind the asked class or action, and
is conditional when what was asked is held only under a condition.

Escalation (``can_escalate``) is never a way to reach by default: :func:`reach` lists the
escalations of every identity on the way apart, and follows them only with
``escalation=True``, marking what it reached that way. A ``can_access`` hop ends a path: reading
a Lambda function is not running as its role.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

from ..order import ACCESS_CLASSES, ACCESS_LEVELS, DATA_CLASSES, access_rank
from .core import Graph, Hop
from .grant import holds

BECOME = frozenset({"authenticates", "runs_as", "can_assume", "member_of"})  # ways to act as another identity
ESCALATE = frozenset({"can_escalate"})
ACCESS = frozenset({"can_access"})
ALL_REACH = BECOME | ACCESS
# What an edge stored before access classes holds, read from its level (a read may be data or metadata).
_CLASSES_OF_LEVEL = {
    "list": ("read-metadata",), "read": ("read-data", "read-metadata"), "tagging": ("write-config",),
    "write": ("write-data", "write-config"), "permissions-management": ("permissions-management",),
}
ACCESS_CHOICES = (*ACCESS_LEVELS, "data", *ACCESS_CLASSES)


def classes_of(attrs: Mapping[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """(classes held, those held only under a condition) of a grant edge."""
    stated = attrs.get("classes")
    key = (tuple(stated) if stated is not None else None, tuple(attrs.get("conditional_classes") or ()),
           attrs.get("level"), bool(attrs.get("admin")), bool(attrs.get("conditional")))
    return _classes_of(key)


@lru_cache(maxsize=4096)
def _classes_of(key: tuple[Any, ...]) -> tuple[frozenset[str], frozenset[str]]:
    stated, conditional, level, admin, is_conditional = key
    if stated is not None:
        held = frozenset(stated)
        return held, frozenset(conditional) & held
    inferred = set(_CLASSES_OF_LEVEL.get(level or "", ()))
    if admin:
        inferred.add("admin")
    return frozenset(inferred), frozenset(inferred) if is_conditional else frozenset()


@lru_cache(maxsize=4096)
def _ordered(classes: frozenset[str]) -> tuple[str, ...]:
    return tuple(c for c in ACCESS_CLASSES if c in classes)


@dataclass(frozen=True)
class Want:
    """What a reach question asks of the access hop; an empty Want asks for any access."""

    level: str | None = None  # an access level or stronger
    access: str | None = None  # an access class, or "data"
    action: str | None = None  # an action or permission (wildcards allowed)

    @classmethod
    def of(cls, access: str | None = None, action: str | None = None) -> "Want":
        """``access`` may be a level (the older ``--access read``) or a class."""
        if access in ACCESS_LEVELS:
            return cls(level=access, action=action)
        if access is not None and access not in ACCESS_CHOICES:
            raise ValueError(f"unknown access {access!r}: one of {', '.join(ACCESS_CHOICES)}")
        return cls(access=access, action=action)

    @property
    def empty(self) -> bool:
        return self.level is None and self.access is None and self.action is None


@dataclass(frozen=True)
class Match:
    conditional: bool
    actions: tuple[str, ...]


def _class_match(attrs: Mapping[str, Any], access: str) -> Match | None:
    held, cond = classes_of(attrs)
    wanted = DATA_CLASSES if access == "data" else frozenset({access})
    hit = held & wanted
    if not hit:
        return None
    actions = tuple(sorted({a for c in hit for a in (attrs.get("class_actions") or {}).get(c, ())}))
    return Match(conditional=hit <= cond, actions=actions)


def _system(graph: Graph, n: int, want: Want) -> Mapping[str, Any]:
    """What an action question needs to know of the system (its id too)."""
    return {"id": graph.ids[n], **graph.attrs[n]} if want.action else graph.attrs[n]


def _applies(system: Mapping[str, Any]) -> Callable[[str], bool]:
    """Does an action apply to this system at all (for a grant of every action, ``"*"``)?"""
    from ..policy.actions import applies

    return lambda action: applies(action, system)


def _action_match(attrs: Mapping[str, Any], pattern: str, system: Mapping[str, Any]) -> Match | None:
    compact = attrs.get("actions_by_service") or {}
    conditional = {a.lower() for a in attrs.get("conditional_actions") or ()}
    if compact:
        from ..policy.actions import expand

        found: list[str] = []
        wild = "*" in pattern or "?" in pattern
        if not wild:
            got = holds(compact, pattern)
            if got or (got is None and _applies(system)(pattern)):
                found = [pattern]
        else:
            found = [a for a in expand(compact, system) if fnmatchcase(a.lower(), pattern.lower())]
        if not found:
            return None
        return Match(conditional=all(a.lower() in conditional for a in found), actions=tuple(sorted(found)))
    # Azure and GCP grants list their actions or permissions (Azure's as patterns).
    granted = [str(a) for a in attrs.get("actions") or ()]
    low = pattern.lower()
    found = [a for a in granted if fnmatchcase(low, a.lower()) or fnmatchcase(a.lower(), low)]
    if not found:
        return None
    return Match(conditional=bool(attrs.get("conditional")), actions=tuple(sorted(found)))


def match(attrs: Mapping[str, Any], want: Want, system: Mapping[str, Any] | None = None) -> Match | None:
    """Does a grant edge give what is asked; if so, conditionally or not, through which actions?"""
    if want.level is not None and access_rank(attrs.get("level")) < access_rank(want.level):
        return None
    result = Match(conditional=bool(attrs.get("conditional")), actions=())
    if want.access is not None:
        if want.access == "admin":
            if not attrs.get("admin"):
                return None
            result = Match(conditional=bool(attrs.get("conditional")), actions=())
        else:
            got = _class_match(attrs, want.access)
            if got is None:
                return None
            result = got
    if want.action is not None:
        got = _action_match(attrs, want.action, system or {})
        if got is None:
            return None
        result = Match(conditional=result.conditional or got.conditional, actions=got.actions)
    return result


def hop_json(graph: Graph, hop: Hop) -> dict[str, Any]:
    attrs = dict(hop.attrs)
    out = {
        "from": graph.ids[hop.src], "from_name": graph.names[hop.src],
        "to": graph.ids[hop.dst], "to_name": graph.names[hop.dst],
        "edge": hop.kind, "grant": attrs.get("grants") or attrs.get("via") or attrs.get("grant"),
        "conditional": bool(attrs.get("conditional")),
        **({"condition_keys": attrs["condition_keys"]} if attrs.get("condition_keys") else {}),
    }
    if hop.kind == "can_access":
        out["classes"] = list(_ordered(classes_of(attrs)[0]))
    elif hop.kind == "can_escalate":
        out["technique"] = attrs.get("technique")
        out["techniques"] = [t.get("technique") for t in attrs.get("techniques") or ()]
    return out


def _better(new: tuple[int, bool, int], old: tuple[int, bool, int] | None) -> bool:
    """Higher access first, then unconditional, then shorter."""
    return old is None or (new[0], not new[1], -new[2]) > (old[0], not old[1], -old[2])


def _row_access(attrs: Mapping[str, Any], found: Match | None, want: Want) -> dict[str, Any]:
    held, cond = classes_of(attrs)
    out: dict[str, Any] = {
        "classes": list(_ordered(held)), "conditional_classes": list(_ordered(cond)),
        "data_access": not held.isdisjoint(DATA_CLASSES),
        "class_actions": dict(attrs.get("class_actions") or {}),
    }
    if not want.empty and found is not None:
        out["matching_actions"] = list(found.actions)
    return out


def _admin_escalations(graph: Graph, identity: int) -> list[tuple[int, Mapping[str, Any]]]:
    """Systems an identity takes over by escalating to admin on itself: every system of its
    provider and account."""
    attrs = graph.attrs[identity]
    out = []
    for n, kind in enumerate(graph.kinds):
        if kind == "system" and graph.attrs[n].get("account") == attrs.get("account") \
                and graph.attrs[n].get("provider") == attrs.get("provider"):
            out.append(n)
    return [(n, {"level": "permissions-management", "admin": True, "classes": ["admin", *ACCESS_CLASSES[:-1]],
                 "grants": ["by escalating to admin"], "via_escalation": True}) for n in out]


def escalations_from(graph: Graph, parent: Mapping[int, Hop | None]) -> list[dict[str, Any]]:
    """The can_escalate edges of every identity a walk entered, with the path to it."""
    out = []
    for identity in parent:
        for dst, attrs in graph.out_edges(identity, "can_escalate"):
            base = graph.path_to(parent, identity)
            out.append({
                "from": graph.ids[identity], "from_name": graph.names[identity],
                "to": graph.ids[dst], "to_name": graph.names[dst], "self": dst == identity,
                "gains": attrs.get("gains"), "technique": attrs.get("technique"),
                "techniques": list(attrs.get("techniques") or ()), "conditional": bool(attrs.get("conditional")),
                "path": [hop_json(graph, h) for h in [*base, Hop(identity, dst, "can_escalate", attrs)]],
            })
    out.sort(key=lambda e: (len(e["path"]), e["from_name"], e["to_name"]))
    return out


def reach(graph: Graph, start: int, *, depth: int = 5, min_level: str | None = None, with_paths: bool = True,
          want: Want | None = None, escalation: bool = False) -> list[dict[str, Any]]:
    """Every system ``start`` can reach within ``depth`` hops, with its best path (the hops
    as JSON only ``with_paths``: a listing's summary needs the systems, not the paths).
    ``want``: what the access must give; ``escalation``: follow can_escalate edges too."""
    want = want or Want(level=min_level)
    if min_level and want.level is None:
        want = Want(level=min_level, access=want.access, action=want.action)
    kinds = BECOME | ESCALATE if escalation else BECOME
    starts = same_secret(graph, start)
    best: dict[int, tuple[tuple[int, bool, int], list[Hop], Match | None]] = {}
    for origin, lead in starts:
        parent = graph.walk(origin, kinds, depth=max(depth - 1 - len(lead), 0))
        for identity in parent:
            base: list[Hop] | None = None
            base_conditional = False
            access_edges: Iterable[tuple[int, Mapping[str, Any]]] = graph.out_edges(identity, "can_access")
            if escalation and any(dst == identity and (a.get("gains") == "admin")
                                  for dst, a in graph.out_edges(identity, "can_escalate")):
                access_edges = [*access_edges, *_admin_escalations(graph, identity)]
            for dst, attrs in access_edges:
                found = match(attrs, want, _system(graph, dst, want)) if not want.empty else None
                if not want.empty and found is None:
                    continue
                if base is None:  # the path to the identity, once, and only if it reaches something
                    base = [*lead, *graph.path_to(parent, identity)]
                    base_conditional = any(h.attrs.get("conditional") for h in base)
                conditional = found.conditional if found is not None else bool(attrs.get("conditional"))
                key = (access_rank(attrs.get("level")), base_conditional or conditional, len(base) + 1)
                if _better(key, best[dst][0] if dst in best else None):
                    kind = "can_escalate" if attrs.get("via_escalation") else "can_access"
                    best[dst] = (key, [*base, Hop(identity, dst, kind, attrs)], found)
    out = []
    for system, ((_, conditional, _), path, found) in best.items():
        last = path[-1].attrs
        via = any(h.kind == "can_escalate" for h in path)
        out.append({
            "system": graph.ids[system], "name": graph.names[system], "type": graph.attrs[system].get("type"),
            "account": graph.attrs[system].get("account"), "sensitivity": graph.attrs[system].get("sensitivity"),
            "access": last.get("level"), "admin": bool(last.get("admin")),
            "actions": last.get("actions", []), "conditional": conditional,
            **_row_access(last, found, want), **({"via_escalation": True} if via else {}),
            "path": [hop_json(graph, h) for h in path] if with_paths else [], "hops": len(path),
        })
    out.sort(key=lambda r: (-access_rank(r["access"]), r["conditional"], r["hops"], r["name"]))
    return out


def same_secret(graph: Graph, start: int) -> list[tuple[int, list[Hop]]]:
    """Where a walk from ``start`` begins: the node itself, and for a secret found in a file
    the live cloud credentials it was matched to (by a public id: an access key id, a key
    id, a thumbprint), each with the hop that says so. ``reach -`` (the pasted secret) and
    ``reach FILE:LINE`` then answer alike."""
    out: list[tuple[int, list[Hop]]] = [(start, [])]
    if graph.attrs[start].get("provider") != "files" or graph.kinds[start] != "credential":
        return out
    me = graph.ids[start]
    seen = {start}
    for loc, _ in graph.out_edges(start, "found_in"):
        for hop in graph.in_hops(loc, frozenset({"found_in"})):
            if hop.src in seen or hop.attrs.get("file_credential") != me:
                continue
            seen.add(hop.src)
            link = {"grants": [f"the same secret ({hop.attrs.get('via')} {hop.attrs.get('matched')})"],
                    "via": hop.attrs.get("via")}
            out.append((hop.src, [Hop(start, hop.src, "same_secret", link)]))
    return out


def escalations_of(graph: Graph, start: int, *, depth: int = 5) -> list[dict[str, Any]]:
    """Every escalation open to ``start`` or an identity it becomes (without escalating)."""
    out: list[dict[str, Any]] = []
    for origin, lead in same_secret(graph, start):
        parent = graph.walk(origin, BECOME, depth=max(depth - 1 - len(lead), 0))
        for row in escalations_from(graph, parent):
            row["path"] = [hop_json(graph, h) for h in lead] + row["path"]
            out.append(row)
    return out


def reach_summary(graph: Graph, node_id: str, *, depth: int = 5) -> dict[str, Any]:
    """What a listing row needs: how many systems it reaches the data of (and how many of
    those are sensitive), how many more it reaches without their data (metadata,
    configuration or permissions only),
    the strongest access and the most sensitive system reached (with its access)."""
    start = graph.node(node_id)
    hits = reach(graph, start, depth=depth, with_paths=False) if start is not None else []
    data = [h for h in hits if h["data_access"]]
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    sensitive = [h for h in data if h.get("sensitivity") in ("critical", "high")]
    top = min(data or hits, key=lambda h: (order.get(h.get("sensitivity"), 9), -access_rank(h["access"]), h["name"]),
              default=None)
    return {
        "systems": len(data), "sensitive": len(sensitive), "without_data": len(hits) - len(data),
        "max_access": max((h["access"] for h in hits), key=access_rank, default=None),
        "admin": any(h["admin"] for h in hits),
        "top": None if top is None else {"name": top["name"], "type": top["type"], "access": top["access"],
                                         "classes": top["classes"], "sensitivity": top.get("sensitivity"),
                                         "conditional": top["conditional"]},
    }


def who_can_reach(graph: Graph, system: int, *, depth: int = 5, want: Want | None = None,
                  escalation: bool = False) -> list[dict[str, Any]]:
    """Every identity, credential and workload that can reach ``system``, with its best path."""
    want = want or Want()
    kinds = BECOME | ESCALATE if escalation else BECOME
    best: dict[int, tuple[tuple[int, bool, int], list[Hop], Match | None]] = {}
    for access in graph.in_hops(system, ACCESS):
        found = match(access.attrs, want, _system(graph, system, want)) if not want.empty else None
        if not want.empty and found is None:
            continue
        parent = graph.walk(access.src, kinds, depth=max(depth - 1, 0), reverse=True)
        for subject in parent:
            path = [*graph.path_to(parent, subject, reverse=True), access]
            last_conditional = found.conditional if found is not None else bool(access.attrs.get("conditional"))
            conditional = last_conditional or any(h.attrs.get("conditional") for h in path[:-1])
            key = (access_rank(access.attrs.get("level")), conditional, len(path))
            if _better(key, best[subject][0] if subject in best else None):
                best[subject] = (key, path, found)
    out = []
    for subject, ((_, conditional, _), path, found) in best.items():
        via = any(h.kind == "can_escalate" for h in path)
        out.append({
            "subject": graph.ids[subject], "name": graph.names[subject], "kind": graph.kinds[subject],
            "type": graph.attrs[subject].get("type"), "account": graph.attrs[subject].get("account"),
            "access": path[-1].attrs.get("level"), "conditional": conditional,
            **_row_access(path[-1].attrs, found, want), **({"via_escalation": True} if via else {}),
            "path": [hop_json(graph, h) for h in path],
        })
    order = {"credential": 0, "workload": 1, "identity": 2}
    out.sort(key=lambda r: (order.get(r["kind"], 3), -access_rank(r["access"]), len(r["path"]), r["name"]))
    return out


def paths_between(graph: Graph, a: int, b: int, *, depth: int = 6, limit: int = 10, escalation: bool = False,
                  budget: int = 200_000) -> list[list[dict[str, Any]]]:
    """Up to ``limit`` simple paths from a to b (shortest first). A ``can_access`` hop ends a
    path (reading a function is not running as its role); ``can_escalate`` hops are followed
    only with ``escalation``."""
    kinds = ALL_REACH | ESCALATE if escalation else ALL_REACH
    found: list[list[Hop]] = []
    starts = same_secret(graph, a)
    stack: list[tuple[int, list[Hop], frozenset[int]]] = [(n, lead, frozenset({a, n})) for n, lead in starts]
    while stack and budget > 0:
        budget -= 1
        n, hops, seen = stack.pop()
        if n == b and hops:
            found.append(hops)
            continue
        if len(hops) >= depth or (hops and hops[-1].kind == "can_access"):
            continue
        for hop in graph.out_hops(n, kinds):
            if hop.dst not in seen:
                stack.append((hop.dst, [*hops, hop], seen | {hop.dst}))
    found.sort(key=len)
    return [[hop_json(graph, h) for h in p] for p in found[:limit]]
