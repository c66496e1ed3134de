"""The record types: the contract between connectors, the store and every later layer.

Connectors yield these records and nothing else. They are plain, immutable data so that
a record can be hashed, stored as JSON and compared across snapshots; anything a layer
later derives (agent verdicts, owners, reach) is stored beside them, never inside them.

A node's ``id`` is stable across scans (the same object gets the same id next week) and is
built from the object's public identifier (an ARN, an access key id, a key name, a
fingerprint). It never contains a secret value: :func:`node_id` refuses inputs that look
like one, as a last line of defence against a connector bug.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, ClassVar, Mapping


class NodeKind(StrEnum):
    """What a node is. ``policy`` and ``workload`` extend DESIGN.md's five kinds: policy
    documents are stored once and shared, and workloads are what runs *as* an identity."""

    IDENTITY = "identity"
    CREDENTIAL = "credential"
    OWNER = "owner"
    SYSTEM = "system"
    LOCATION = "location"
    WORKLOAD = "workload"
    POLICY = "policy"


class EdgeKind(StrEnum):
    """Relations a source states itself. Connectors emit only these; the reach graph
    derives ``can_assume`` / ``can_access`` / ``can_escalate`` from policies where the source
    does not."""

    AUTHENTICATES = "authenticates"  # credential -> identity
    CAN_ASSUME = "can_assume"  # identity -> identity
    CAN_ACCESS = "can_access"  # identity -> system
    # identity -> identity or system it can take over through a privilege-escalation technique
    # (the technique and its statements in attrs; never folded into can_access)
    CAN_ESCALATE = "can_escalate"
    OWNS = "owns"  # owner -> identity | credential
    FOUND_IN = "found_in"  # credential -> location
    MEMBER_OF = "member_of"  # identity -> group identity
    RUNS_AS = "runs_as"  # workload -> identity
    HAS_POLICY = "has_policy"  # identity -> policy (attrs.attachment: managed | boundary)
    PROTECTS = "protects"  # credential/system -> system (a KMS key protecting a secret)


class CredentialStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    EXPIRED = "expired"


_SECRETISH = re.compile(
    r"(?:sk-(?:proj|ant|svcacct|admin)-|-----BEGIN|xox[baprs]-|ghp_|github_pat_|hf_[A-Za-z0-9]{20,})"
)


def node_id(provider: str, type_: str, *parts: str) -> str:
    """A stable id ``provider:type:part[:part]``.

    Parts are public identifiers only. A part that looks like a secret value is refused,
    because an id is printed, stored and exported everywhere.
    """
    for part in parts:
        if _SECRETISH.search(part):
            raise ValueError(f"refusing to build an id of type {type_!r} from a secret-looking value")
    return ":".join((provider, type_, *parts))


def _jsonable(value: Any) -> Any:
    # Exact-type fast paths first: storing a large snapshot serialises millions of values,
    # and isinstance against the typing ABCs below is slow.
    t = type(value)
    if t is str or t is int or t is bool or t is float or value is None:
        return value
    if t is dict:
        return {str(k): _jsonable(v) for k, v in value.items()}
    if t is list or t is tuple:
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    return value


def canonical_json(value: Any) -> str:
    """The one serialisation used for storage and content hashes (sorted keys, UTC dates)."""
    return json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    """Fields every node has. ``attrs`` holds what is specific to the source (tags, policy
    documents, raw flags); typed fields hold what every later layer relies on."""

    kind: ClassVar[NodeKind]
    id: str
    provider: str
    source: str
    type: str
    name: str
    native_id: str | None = None
    account: str | None = None
    region: str | None = None
    created: dt.datetime | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``kind`` first so a stored row says what it is."""
        out: dict[str, Any] = {"kind": self.kind.value}
        for f in fields(self):
            out[f.name] = _jsonable(getattr(self, f.name))
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity(Node):
    """A principal: IAM user/role/group, service principal, service account, unknown principal."""

    kind: ClassVar[NodeKind] = NodeKind.IDENTITY
    last_used: dt.datetime | None = None
    last_used_detail: str | None = None  # e.g. "role used in us-east-1"
    enabled: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Credential(Node):
    """Something that authenticates: an access key, a service-account key, a client secret,
    a certificate, an API key, a token, a console password. ``id`` is the public key id,
    thumbprint or fingerprint, never the value. ``preview`` is a redacted form at most."""

    kind: ClassVar[NodeKind] = NodeKind.CREDENTIAL
    status: CredentialStatus = CredentialStatus.ACTIVE
    last_used: dt.datetime | None = None
    last_used_detail: str | None = None  # service/region of last use where the source says
    expires: dt.datetime | None = None
    rotation: Mapping[str, Any] = field(default_factory=dict)  # enabled, last_rotated, interval_days
    fingerprint: str | None = None  # salted SHA-256 of a value seen in a file, never the value
    preview: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner(Node):
    """A person or team that answers for an identity or credential."""

    kind: ClassVar[NodeKind] = NodeKind.OWNER
    active: bool | None = None  # None: the source does not say


@dataclass(frozen=True, slots=True, kw_only=True)
class System(Node):
    """Something that can be reached: a bucket, table, secret, key, function, account."""

    kind: ClassVar[NodeKind] = NodeKind.SYSTEM
    sensitivity: str | None = None  # filled from config by a later layer or by tags
    resource_policy: Mapping[str, Any] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload(Node):
    """Compute that runs as an identity: a Bedrock agent, an AgentCore runtime, a Lambda
    function, an ECS task definition, an EC2 instance. Env var *names* only."""

    kind: ClassVar[NodeKind] = NodeKind.WORKLOAD
    env_var_names: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Location(Node):
    """Where a secret was found: a file and line, a config entry, a commit."""

    kind: ClassVar[NodeKind] = NodeKind.LOCATION
    path: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy(Node):
    """A managed policy document, stored once and attached through ``has_policy`` edges.
    Inline policies stay in their identity's ``attrs['inline_policies']``."""

    kind: ClassVar[NodeKind] = NodeKind.POLICY
    document: Mapping[str, Any] = field(default_factory=dict)


NODE_TYPES: dict[NodeKind, type[Node]] = {
    cls.kind: cls for cls in (Identity, Credential, Owner, System, Workload, Location, Policy)
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    """A relation the source states. ``key`` tells apart two edges of one kind between the
    same pair (two grants); the edge id is derived, so it is as stable as its parts."""

    src: str
    dst: str
    kind: EdgeKind
    source: str
    key: str = ""
    attrs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        digest = hashlib.sha256(
            "\x1f".join((self.src, self.kind.value, self.dst, self.key)).encode()
        ).hexdigest()
        return digest[:32]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "src": self.src,
            "dst": self.dst,
            "kind": self.kind.value,
            "source": self.source,
            "key": self.key,
            "attrs": _jsonable(self.attrs),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageGap:
    """Something the scan could not see, and why. Gaps are first-class results: a report
    that hides them would claim a coverage it does not have."""

    connector: str
    operation: str
    error_code: str
    message: str = ""
    account: str | None = None
    region: str | None = None
    service: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


Record = Node | Edge


def node_from_dict(data: Mapping[str, Any]) -> Node:
    """Rebuild a typed node from its stored dict (dates back to datetimes)."""
    cls = NODE_TYPES[NodeKind(data["kind"])]
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name in _DATE_FIELDS and isinstance(value, str):
            value = parse_datetime(value)
        elif f.name == "status" and value is not None:
            value = CredentialStatus(value)
        elif f.name == "env_var_names":
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


_DATE_FIELDS = frozenset({"created", "last_used", "expires"})


def parse_datetime(value: str | dt.datetime | None) -> dt.datetime | None:
    """Tolerant ISO 8601 parse to an aware UTC datetime; ``None`` for AWS's 'N/A' forms."""
    if value is None or isinstance(value, dt.datetime):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc) if value else None
    text = value.strip()
    if not text or text.upper() in {"N/A", "NO_INFORMATION", "NOT_SUPPORTED", "NONE"}:
        return None
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)
