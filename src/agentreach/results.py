"""Where secrets were found and which of them are live keys: the cheap snapshot queries the
end of a scan, the pre-commit hook and the reports share (no graph, no rules)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from .store import Store


def file_locations(store: Store, snapshot_id: int, ids: Iterable[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """credential id -> ``[{path, line, root}]`` where it was found (``found_in`` edges that
    show a secret; a public certificate alone in a file is linked but shows none), sorted.
    ``path`` is relative to the scanned root. Two queries whatever the size."""
    wanted = set(ids) if ids is not None else None
    edges = [e for e in store.edges(snapshot_id, kinds=["found_in"])
             if not (e.get("attrs") or {}).get("public_only") and (wanted is None or e["src"] in wanted)]
    locs = {n.node.id: n.node for n in store.nodes(snapshot_id, ids={e["dst"] for e in edges})}
    out: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
    for e in edges:
        loc = locs.get(e["dst"])
        if loc is None:
            continue
        path = getattr(loc, "path", "") or loc.name
        line = getattr(loc, "line", None)
        out.setdefault(e["src"], {})[(path, line or 0)] = {"path": path, "line": line,
                                                             "root": (loc.attrs or {}).get("root")}
    return {cid: [places[k] for k in sorted(places)] for cid, places in out.items()}


def found_locations(store: Store, snapshot_id: int, *, with_root: bool = True) -> dict[str, list[str]]:
    """credential id -> the sorted ``path:line`` places it was found (``root/path:line`` with
    ``with_root``), for people."""
    def place(loc: Mapping[str, Any]) -> str:
        root = f"{loc['root']}/" if with_root and loc["root"] else ""
        line = f":{loc['line']}" if loc["line"] else ""
        return f"{root}{loc['path']}{line}"

    return {cid: sorted(place(loc) for loc in locs) for cid, locs in file_locations(store, snapshot_id).items()}


def leaked_live(store: Store, snapshot_id: int) -> list[dict[str, Any]]:
    """Active cloud credentials that were found written in files: the one thing a scan must
    not let scroll past (AR-SECRET-LEAKED-LIVE has the full evidence). Cheap: the found_in
    edges of the snapshot and the nodes at their ends, no graph, no rules."""
    from .model import Credential, CredentialStatus, System
    from .secretvalues import ATTR

    places = {cid: p for cid, p in found_locations(store, snapshot_id).items() if not cid.startswith("files:")}
    if not places:
        return []
    creds = [n.node for n in store.nodes(snapshot_id, ids=set(places))]
    # A cloud secret is there when a file holds its current value (--match-secret-values).
    live = [c for c in creds if (isinstance(c, Credential) and c.status == CredentialStatus.ACTIVE)
            or (isinstance(c, System) and c.attrs.get(ATTR))]
    idents: dict[str, list[str]] = {}
    for e in store.edges(snapshot_id, kinds=["authenticates"]):
        if e["src"] in places:
            idents.setdefault(e["src"], []).append(e["dst"])
    names = {n.node.id: n.node.name for n in store.nodes(snapshot_id, ids={i for v in idents.values() for i in v})}
    return sorted(({"id": c.id, "name": c.name, "type": c.type, "kind": c.kind.value,
                    "identities": sorted(names.get(i, i) for i in idents.get(c.id, [])), "locations": places[c.id]}
                   for c in live), key=lambda i: i["name"])
