"""What a responder has at hand, resolved to the objects of a snapshot.

An ARN, an access key id, an email, a GCP key's resource name, an IAM member
(``serviceAccount:…``), a GUID in another case, a leaked secret's fingerprint, or a file
location (``path``, ``path:line``, relative to the scanned root or prefixed with the root's
name, as in ``repo/app/.env:12``). Tiers are tried in order and the first that matches
wins: exact id, native id, name, then the heuristics. A file location resolves to the
credentials found there, never to the location node itself (a responder asking about a
line wants the secret on it); where a cloud credential was matched to that line (a
``found_in`` from its public id), it stands for the file secret it is.
"""

from __future__ import annotations

from typing import Iterable

from ..store import Store, StoredNode

MEMBER_PREFIXES = ("serviceAccount", "user", "group", "principal", "principalSet")


def tiers(ref: str) -> list[tuple[str, str, str]]:
    """(column, value, how) to try, most exact first."""
    out = [("node_id", ref, "eq"), ("native_id", ref, "eq"), ("name", ref, "eq")]
    if ref.startswith("sha256:"):
        out.append(("node_id", f":{ref}", "suffix"))  # a leaked secret's fingerprint ends its id
    if "/keys/" in ref:  # projects/p/serviceAccounts/e/keys/K: the key id is the native id
        out.append(("native_id", ref.rsplit("/keys/", 1)[1], "eq"))
    member, colon, rest = ref.partition(":")
    if colon and member in MEMBER_PREFIXES and rest:  # serviceAccount:e, principal://…
        out.append(("native_id", ref if member.startswith("principal") else rest, "eq"))
    out.append(("native_id", ref, "casefold"))  # a GUID or an email in another case
    return out


def find(store: Store, snapshot_id: int, ref: str) -> list[StoredNode]:
    for i, (column, value, how) in enumerate(tiers(ref)):
        rows = store.match_nodes(snapshot_id, column, value, how=how)
        if not rows:
            continue
        ids = [node_id for node_id, _ in rows]
        if i and all(kind == "location" for _, kind in rows):
            found = found_at(store, snapshot_id, ids)  # a location's name or file name: what was found there
            if found:
                return found
        return list(store.nodes(snapshot_id, ids=ids))
    return found_at(store, snapshot_id, locations_named(store, snapshot_id, ref))


def found_at(store: Store, snapshot_id: int, location_ids: Iterable[str]) -> list[StoredNode]:
    """Credentials with found_in edges into the locations, cloud ones first per location."""
    location_ids = list(location_ids)
    if not location_ids:
        return []
    edges = store.edges(snapshot_id, kinds=["found_in"], dst_in=location_ids)
    creds = {n.node.id: n for n in store.nodes(snapshot_id, ids={e["src"] for e in edges})}
    keep: set[str] = set()
    for loc in set(location_ids):
        here = [creds[e["src"]] for e in edges if e["dst"] == loc and e["src"] in creds]
        cloud = [n for n in here if n.node.provider != "files"]
        keep |= {n.node.id for n in (cloud or here)}
    return [creds[i] for i in sorted(keep)]


def locations_named(store: Store, snapshot_id: int, text: str) -> list[str]:
    """Ids of location nodes at ``path`` or ``path:line`` (optionally ``root/path``)."""
    text = text.removeprefix("./")
    candidates: list[tuple[str, int | None]] = [(text, None)]
    head, sep, tail = text.rpartition(":")
    if sep and tail.isdigit() and head:
        candidates.append((head.removeprefix("./"), int(tail)))
    out: list[str] = []
    for path, line in candidates:
        base = path.rsplit("/", 1)[-1]
        if not base:
            continue
        # a location's native_id is the file's base name (indexed): a cheap first cut
        ids = [i for i, _ in store.match_nodes(snapshot_id, "native_id", base, kinds=["location"])]
        for stored in store.nodes(snapshot_id, ids=ids) if ids else ():
            data = stored.node.to_dict()
            rel = str(data.get("path") or "")
            root = str((data.get("attrs") or {}).get("root") or "")
            if path in (rel, f"{root}/{rel}") and (line is None or data.get("line") == line):
                out.append(stored.node.id)
    return sorted(out)
