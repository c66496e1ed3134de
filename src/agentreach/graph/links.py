"""Derived ``found_in`` edges from cloud credentials to the file locations of the secrets
that are those credentials.

The files connector never knows which cloud credentials a snapshot holds, so it records
only what is public about a found secret (``attrs.public_id``: an AWS access key id, a GCP
key's ``private_key_id``, a certificate's SHA-1 / SHA-256 thumbprint). This deriver runs
once every connector is done and joins those ids to the cloud side:

- ``aws_access_key_id`` == the ``native_id`` of an ``aws_access_key``;
- ``gcp_private_key_id`` == the ``native_id`` of a ``gcp_sa_key`` (or its last path part,
  ``projects/…/keys/<id>``);
- ``certificate_sha1`` / ``certificate_sha256`` == ``attrs.thumbprint_sha1`` /
  ``attrs.thumbprint_sha256`` of any provider's credential (Entra key credentials, ACM and
  IAM server certificates), compared as upper-case hex without separators.

Each match becomes one edge cloud credential -> location, attrs ``via`` (which public id),
``matched`` (its value, public by definition) and ``file_credential`` (the file secret's id).
``public_only`` is true when what sits in the file is only the public certificate: that
links the certificate to the file but is no leak (the findings rules read it so).

A cloud *secret* (a Secrets Manager, Secret Manager or Key Vault secret, a system) whose
current value was read with ``match_secret_values`` carries ``attrs.value_identities``: the
value's identity under the snapshot's secret-id scheme (:mod:`agentreach.secretvalues`), the
very part a file secret's id is built from. An identity equal to a file secret's id links the
two the same way: an edge cloud secret -> location with ``via`` ``secret value``,
``matched`` (which part of the value: the whole, or a JSON field) and ``evidence`` (which
version, read with which operation).
"""

from __future__ import annotations

import re
from typing import Iterator, Mapping

from ..model import Credential, Edge, EdgeKind, System
from ..secretvalues import READ_ATTR, matches
from ..view import SnapshotView
from .derive import Derived

SOURCE = "link:files"
FILES = "files"
CERT_TYPES = frozenset({"x509_certificate"})
# public id key in attrs.public_id -> (edge via, how the cloud side is indexed)
VIA = {
    "aws_access_key_id": "access key id",
    "gcp_private_key_id": "private key id",
    "certificate_sha1": "certificate thumbprint",
    "certificate_sha256": "certificate thumbprint",
}
SECRET_VALUE = "secret_value"
FILE_SECRET_PREFIX = "files:secret:"
_HEX_SEP = re.compile(r"[^0-9A-Fa-f]")


def thumb(value: object) -> str:
    """A thumbprint as upper-case hex without colons or spaces (Entra writes upper-case hex,
    openssl writes colon-separated pairs)."""
    return _HEX_SEP.sub("", str(value or "")).upper()


def cloud_index(view: SnapshotView) -> dict[tuple[str, str], list[str]]:
    """(public id key, normalised value) -> ids of the non-files credentials that carry it."""
    index: dict[tuple[str, str], list[str]] = {}

    def add(key: str, value: str, node_id: str) -> None:
        if value:
            index.setdefault((key, value), []).append(node_id)

    for node in view.nodes.values():
        if not isinstance(node, Credential) or node.provider == FILES:
            continue
        if node.type == "aws_access_key" and node.native_id:
            add("aws_access_key_id", node.native_id, node.id)
        elif node.type == "gcp_sa_key" and node.native_id:
            add("gcp_private_key_id", node.native_id.rsplit("/", 1)[-1], node.id)
        add("certificate_sha1", thumb(node.attrs.get("thumbprint_sha1")), node.id)
        add("certificate_sha256", thumb(node.attrs.get("thumbprint_sha256")), node.id)
    return index


def value_index(view: SnapshotView) -> dict[str, list[tuple[str, str]]]:
    """identity of a cloud secret's current value -> [(cloud secret id, which part)]."""
    index: dict[str, list[tuple[str, str]]] = {}
    for node in view.nodes.values():
        if isinstance(node, System) and node.provider != FILES:
            for identity, part in matches(node.attrs):
                index.setdefault(identity, []).append((node.id, part))
    return index


def value_evidence(node: System, part: str) -> str:
    """Why a file secret is this cloud secret, in one line."""
    read = node.attrs.get(READ_ATTR) or {}
    secret = ""
    if part.startswith("secret "):  # one secret of a container (a Key Vault's): "secret NAME[ PART]"
        secret, _, part = part.removeprefix("secret ").partition(" ")
        part = part or "value"
    if part.startswith("field "):
        what = f"the {part.removeprefix('field ')} field"
    elif part.startswith("found "):
        what = f"the {part.removeprefix('found ')} in the value"
    else:
        what = "the value"
    how = f"read with {read.get('operation') or 'its read operation'}"
    if secret:
        return f"value matches {what} of the current version of secret {secret} in {node.type} {node.name}, {how}"
    version = read.get("version") or "current"
    return f"value matches {what} of the current version ({version}) of {node.type} {node.name}, {how}"


def _public_ids(node: Credential) -> Iterator[tuple[str, str]]:
    ids = node.attrs.get("public_id")
    if not isinstance(ids, Mapping):
        return
    for key in VIA:
        value = ids.get(key)
        if isinstance(value, str) and value:
            yield key, thumb(value) if key.startswith("certificate_") else value


def derive(view: SnapshotView) -> Derived:
    """One ``found_in`` edge per (cloud credential, location of a matching file secret)."""
    index = cloud_index(view)
    values = value_index(view)
    edges: dict[tuple[str, str], Edge] = {}
    for node in sorted(view.nodes.values(), key=lambda n: n.id):
        if not isinstance(node, Credential) or node.provider != FILES:
            continue
        locations = sorted(e["dst"] for e in view.out_edges.get(node.id, ())
                           if e["kind"] == EdgeKind.FOUND_IN.value and e.get("source") == FILES)
        if not locations:
            continue
        for key, value in _public_ids(node):
            for cloud_id in index.get((key, value), ()):
                for loc in locations:
                    if (cloud_id, loc) in edges:
                        continue  # SHA-1 and SHA-256 of one certificate: one edge
                    edges[(cloud_id, loc)] = Edge(
                        src=cloud_id, dst=loc, kind=EdgeKind.FOUND_IN, source=SOURCE,
                        attrs={"via": VIA[key], "matched": value, "file_credential": node.id,
                               "public_only": node.type in CERT_TYPES})
        identity = node.id.removeprefix(FILE_SECRET_PREFIX) if node.id.startswith(FILE_SECRET_PREFIX) else ""
        for cloud_id, part in values.get(identity, ()) if identity else ():
            cloud = view.nodes[cloud_id]
            for loc in locations:
                if (cloud_id, loc) not in edges and isinstance(cloud, System):
                    edges[(cloud_id, loc)] = Edge(
                        src=cloud_id, dst=loc, kind=EdgeKind.FOUND_IN, source=SOURCE,
                        attrs={"via": "secret value", "matched": part, "file_credential": node.id,
                               "public_only": False, "evidence": value_evidence(cloud, part)})
    return Derived(nodes=[], edges=list(edges.values()), problems=[])
