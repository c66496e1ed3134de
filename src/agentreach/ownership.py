"""Who answers for each identity and credential, and whether that someone is still here.

An owner is only worth something if it can be traced and is a live person or team, so
every verdict carries the evidence it stands on and one of three statuses:

- ``owned``: a source names someone, and the directory (if any) has them active;
- ``orphaned``: a source names someone the directory has as inactive, or does not know;
- ``ownerless``: nothing names anyone.

Where a name comes from, in the order of ``ownership.priority`` (config/owners.yaml):
tags under the configured keys (case-insensitive; an owner key beats a team key beats
created-by), ``owns`` edges from Owner nodes, and lists in ``attrs``. Budget tags
(``CostCenter``, ``Project``) are never taken for an owner: they name who pays, not who
answers. An object with no name of its own borrows one: an untagged role from the
workloads (agents, runtimes, functions) that run as it, a credential from the identity it
authenticates as. An explicit mapping file (``{pattern, owner}``, last match wins like
CODEOWNERS) covers what is left; each borrowed or mapped name says so in ``via``.

What other connectors must emit to be covered (nothing here is AWS-specific):

- Entra: application / service-principal owners as ``attrs.owners`` and Agent ID sponsors
  as ``attrs.sponsors``, each a list of ``{name, email?, active?}`` (``active`` from the
  user's ``accountEnabled``); or Owner nodes (``active``) with ``owns`` edges.
- GCP: resource labels in ``tags`` (``owner``, ``team``, ``created_by``; lower-case keys
  match anyway); resolved owners, if any, in ``attrs.owners``.

Everything here is pure: files are read by :meth:`Directory.load` and :func:`load_mapping`,
and :func:`resolve_owners` only looks at what it is given.
"""

from __future__ import annotations

import csv
import dataclasses
import fnmatch
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from .config import ConfigError, overlay, shipped_data
from .evidence import Sighting
from .model import Credential, Identity, Node, Owner
from .view import SnapshotView

OWNED, ORPHANED, OWNERLESS, UNKNOWN = "owned", "orphaned", "ownerless", "unknown"


@dataclass(frozen=True, kw_only=True)
class OwnerEvidence(Sighting):
    """One fact behind an owner verdict. ``source`` is machine-readable (``owner_tag``,
    ``owners_attr``, ``owns_edge``, ``mapping``, ``directory``, ``not_an_owner``, ``nothing``);
    ``object`` is where it was read, ``via`` how it reached this object when borrowed."""

    source: str
    note: str | None = None


def _ev(source: str, matched: str, field: str, node: Node, **extra: Any) -> OwnerEvidence:
    return OwnerEvidence(source=source, matched=matched, field=field, object=node.id, object_name=node.name, **extra)


@dataclass(frozen=True)
class OwnerVerdict:
    name: str | None
    status: str  # owned | orphaned | ownerless | unknown
    evidence: tuple[OwnerEvidence, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "evidence": [e.to_dict() for e in self.evidence]}


# -- config --------------------------------------------------------------------------------

@dataclass(frozen=True)
class OwnerConfig:
    tag_keys: Mapping[str, tuple[str, ...]]
    attr_fields: Mapping[str, tuple[str, ...]]
    priority: tuple[str, ...]
    not_owner_tag_keys: tuple[str, ...] = ()
    propagate_from_workloads: bool = True
    propagate_to_credentials: bool = True
    owner_nodes_as_directory: bool = True
    directory_file: str | None = None
    mapping_file: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "OwnerConfig":
        try:
            tag_keys = {str(g): tuple(str(k) for k in keys) for g, keys in (data.get("tag_keys") or {}).items()}
            attr_fields = {str(g): tuple(str(f) for f in fs) for g, fs in (data.get("attr_fields") or {}).items()}
            priority = tuple(str(p) for p in data.get("priority") or ())
        except (AttributeError, TypeError) as exc:
            raise ConfigError(f"ownership: tag_keys / attr_fields must map a group to a list ({exc})") from None
        clash = set(tag_keys) & set(attr_fields)
        unknown = set(priority) - set(tag_keys) - set(attr_fields) - {"owns"}
        if clash or unknown:
            raise ConfigError(f"ownership: group(s) {', '.join(sorted(clash | unknown))} are "
                              "ambiguous or unknown in priority")
        return cls(tag_keys=tag_keys, attr_fields=attr_fields, priority=priority,
                   not_owner_tag_keys=tuple(str(k) for k in data.get("not_owner_tag_keys") or ()),
                   propagate_from_workloads=bool(data.get("propagate_from_workloads", True)),
                   propagate_to_credentials=bool(data.get("propagate_to_credentials", True)),
                   owner_nodes_as_directory=bool(data.get("owner_nodes_as_directory", True)),
                   directory_file=data.get("directory_file"), mapping_file=data.get("mapping_file"))


def shipped_sections() -> dict[str, Any]:
    """config/owners.yaml as data (its ``ownership`` and ``lifecycle`` sections)."""
    return shipped_data("owners.yaml") or {}


def section(user_config: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    """The shipped section ``name`` (ownership or lifecycle) with the user's over it."""
    return overlay(name, shipped_sections().get(name) or {}, user_config)


def load_owner_config(user_config: Mapping[str, Any] | None = None) -> OwnerConfig:
    return OwnerConfig.from_mapping(section(user_config, "ownership"))


# -- directory -----------------------------------------------------------------------------

def _domains(entries: Iterable["DirectoryEntry"]) -> frozenset[str]:
    """The email domains a directory knows people in."""
    return frozenset(a.rsplit("@", 1)[1].lower() for e in entries for a in (e.email, *e.aliases) if a and "@" in a)


def _norm(text: str | None) -> str:
    return (text or "").strip().lower()


def _truth(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "y", "1", "active", "enabled"}:
        return True
    if text in {"false", "no", "n", "0", "inactive", "disabled", "left"}:
        return False
    return None


@dataclass(frozen=True)
class DirectoryEntry:
    name: str
    email: str | None = None
    active: bool | None = None  # None: the directory does not say
    kind: str = "person"  # person | team
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Directory:
    """People and teams, each active or not. Looked up by name, email or alias, lower-case."""

    entries: Mapping[str, DirectoryEntry]
    description: str = "owner directory"
    # Where "unknown to the directory" means gone. None: everywhere (a directory file the user
    # gives is the whole organisation). A directory made of one source's users (an Entra
    # tenant) only knows its own email domains: an owner named elsewhere (a GCP description,
    # an AWS tag) with another domain is not judged by it.
    domains: frozenset[str] | None = None

    @classmethod
    def of(cls, entries: Iterable[DirectoryEntry], description: str = "owner directory",
           domains: frozenset[str] | None = None) -> "Directory":
        index: dict[str, DirectoryEntry] = {}
        for entry in entries:
            for key in (entry.name, entry.email, *entry.aliases):
                if _norm(key):
                    index.setdefault(_norm(key), entry)
        return cls(index, description, domains)

    def covers(self, email: str | None) -> bool:
        """Whether someone missing from this directory can be taken as gone: the directory
        knows people of their email domain, so its silence about them means they were
        removed. A bare name, or a domain it knows nobody in, it cannot judge."""
        if self.domains is None:
            return True
        return bool(email and "@" in email and email.rsplit("@", 1)[1].lower() in self.domains)

    @classmethod
    def load(cls, path: str | Path) -> "Directory":
        """YAML (a list of {name, email?, active, kind, aliases?}) or CSV (name,email,active,kind)."""
        p = Path(path).expanduser()
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"owner directory {p}: {exc.strerror or exc}") from None
        if p.suffix.lower() == ".csv":
            rows: list[Any] = list(csv.DictReader(io.StringIO(text)))
        else:
            try:
                rows = yaml.safe_load(text) or []
            except yaml.YAMLError as exc:
                raise ConfigError(f"owner directory {p}: not valid YAML ({exc})") from None
        if not isinstance(rows, list):
            raise ConfigError(f"owner directory {p}: expected a list of entries")
        entries = []
        for i, row in enumerate(rows, 1):
            if not isinstance(row, Mapping) or not str(row.get("name") or row.get("email") or "").strip():
                raise ConfigError(f"owner directory {p}: entry {i} has neither name nor email")
            aliases = row.get("aliases") or ()
            entries.append(DirectoryEntry(
                name=str(row.get("name") or row.get("email")).strip(), email=(row.get("email") or None),
                active=_truth(row.get("active")), kind=str(row.get("kind") or "person"),
                aliases=tuple(str(a) for a in ([aliases] if isinstance(aliases, str) else aliases))))
        return cls.of(entries, f"owner directory {p.name}", _domains(entries))

    @classmethod
    def from_nodes(cls, nodes: Iterable[Node]) -> "Directory":
        """Owner nodes a connector emitted (e.g. Entra users, ``active`` from accountEnabled)."""
        entries = []
        for n in nodes:
            if isinstance(n, Owner):
                a = n.attrs
                emails = [a.get(k) for k in ("email", "mail", "user_principal_name", "upn") if a.get(k)]
                entries.append(DirectoryEntry(
                    name=n.name, email=emails[0] if emails else None, active=n.active,
                    kind=str(a.get("kind") or "person"),
                    aliases=tuple(str(x) for x in (*emails[1:], n.native_id, n.id) if x)))
        return cls.of(entries, "Owner nodes of the snapshot", _domains(entries))

    def over(self, other: "Directory") -> "Directory":
        """This directory's entries, with ``other`` filling what it lacks."""
        domains = None if self.domains is None or other.domains is None else self.domains | other.domains
        return Directory({**other.entries, **self.entries}, f"{self.description} and {other.description}", domains)

    def find(self, *keys: str | None) -> DirectoryEntry | None:
        for key in keys:
            if _norm(key) in self.entries:
                return self.entries[_norm(key)]
        return None


# -- mapping file --------------------------------------------------------------------------

@dataclass(frozen=True)
class MappingRule:
    """``pattern`` is a glob over id, native_id or name; ``re:...`` or ``/.../`` makes it a
    regular expression (searched, not anchored)."""

    pattern: str
    owner: str

    def match(self, node: Node) -> str | None:
        """The field the pattern matched, or None."""
        regex = None
        if self.pattern.startswith("re:"):
            regex = re.compile(self.pattern[3:])
        elif len(self.pattern) > 1 and self.pattern.startswith("/") and self.pattern.endswith("/"):
            regex = re.compile(self.pattern[1:-1])
        for fname in ("id", "native_id", "name"):
            value = getattr(node, fname, None)
            if value and (regex.search(value) if regex else fnmatch.fnmatchcase(value, self.pattern)):
                return fname
        return None


def load_mapping(path: str | Path) -> list[MappingRule]:
    p = Path(path).expanduser()
    try:
        rows = yaml.safe_load(p.read_text(encoding="utf-8")) or []
    except OSError as exc:
        raise ConfigError(f"owner mapping {p}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"owner mapping {p}: not valid YAML ({exc})") from None
    if not isinstance(rows, list):
        raise ConfigError(f"owner mapping {p}: expected a list of {{pattern, owner}}")
    rules = []
    for i, row in enumerate(rows, 1):
        if not isinstance(row, Mapping) or not row.get("pattern") or not row.get("owner"):
            raise ConfigError(f"owner mapping {p}: entry {i} needs both pattern and owner")
        rule = MappingRule(str(row["pattern"]), str(row["owner"]))
        try:
            rule.match(Owner(id="", provider="", source="", type="", name=""))
        except re.error as exc:
            raise ConfigError(f"owner mapping {p}: entry {i}: bad regular expression ({exc})") from None
        rules.append(rule)
    return rules


def load_inputs(cfg: OwnerConfig) -> tuple[Directory | None, list[MappingRule]]:
    """The directory and mapping files the config names (the only file reads here)."""
    directory = Directory.load(cfg.directory_file) if cfg.directory_file else None
    return directory, load_mapping(cfg.mapping_file) if cfg.mapping_file else []


# -- resolution ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Candidate:
    name: str
    email: str | None = None
    active: bool | None = None  # what the naming source says, if anything
    principal: bool = False  # a workload identity (an Entra service principal), judged by its own enabled flag


@dataclass
class _Claim:
    candidates: list[_Candidate]
    evidence: list[OwnerEvidence] = field(default_factory=list)


def _tags(node: Node) -> Mapping[str, str]:
    return getattr(node, "tags", None) or {}


def _split(value: str) -> list[_Candidate]:
    out = []
    for part in re.split(r"[,;]", value):
        part = part.strip()
        if part:
            out.append(_Candidate(part, part if "@" in part else None))
    return out


def _own_claim(view: SnapshotView, node: Node, cfg: OwnerConfig) -> _Claim | None:
    """The first group in priority order that names someone on the node itself."""
    tags = {k.lower(): (k, v) for k, v in _tags(node).items()}
    for group in cfg.priority:
        if group in cfg.tag_keys:
            for key in cfg.tag_keys[group]:
                k, v = tags.get(key.lower(), (None, ""))
                if k and _split(v):
                    return _Claim(_split(v), [_ev(f"{group}_tag", v, f"tags.{k}", node)])
        elif group in cfg.attr_fields:
            for fname in cfg.attr_fields[group]:
                cands = [c for c in (_attr_candidate(x) for x in node.attrs.get(fname) or ()) if c]
                if cands:
                    return _Claim(cands, [_ev(f"{group}_attr", c.email or c.name, f"attrs.{fname}", node)
                                          for c in cands])
        elif group == "owns":
            owners = [view.nodes.get(e["src"]) for e in view.in_edges.get(node.id, ()) if e["kind"] == "owns"]
            owners_ = sorted((o for o in owners if isinstance(o, Owner)), key=lambda o: o.id)
            if owners_:
                return _Claim([_Candidate(o.name, o.attrs.get("email"), o.active) for o in owners_],
                              [_ev("owns_edge", o.name, "owns", o, via=f"owns -> {node.name}") for o in owners_])
            # Entra lets a service principal own another (automation that provisions apps);
            # GraphTools and Prowler count it, owned while it is enabled
            principals = sorted((o for o in owners if isinstance(o, Identity)), key=lambda o: o.id)
            if principals:
                return _Claim([_Candidate(o.name, None, o.enabled, principal=True) for o in principals],
                              [_ev("owns_edge", o.name, "owns", o, via=f"owns -> {node.name}") for o in principals])
    return None


def _attr_candidate(item: Any) -> _Candidate | None:
    if isinstance(item, str):
        return _Candidate(item, item if "@" in item else None) if item.strip() else None
    if isinstance(item, Mapping):
        email = item.get("email") or item.get("mail") or item.get("user_principal_name")
        name = item.get("name") or item.get("display_name") or email
        if name:
            active = _truth(item.get("active", item.get("account_enabled", item.get("accountEnabled"))))
            return _Candidate(str(name), str(email) if email else None, active)
    return None


def _judge(claim: _Claim, directory: Directory | None, subject: Node) -> tuple[str, str, list[OwnerEvidence]]:
    """Name and status from a claim: the first candidate who is owned, else the first."""
    judged: list[tuple[_Candidate, str, OwnerEvidence]] = []
    for c in claim.candidates:
        entry = directory.find(c.email, c.name) if directory and not c.principal else None
        email = c.email or (c.name if "@" in c.name else None)
        if c.principal:  # a people directory does not list workload identities
            status = OWNED if c.active else ORPHANED
            note = f"the owning principal {c.name} is {'enabled' if c.active else 'disabled'}"
        elif directory and entry is None and c.active is not False and directory.covers(email):
            status = ORPHANED
            note = (f"{c.name} is unknown to the {directory.description}, which lists the people of "
                    f"{email.rsplit('@', 1)[1].lower() if email else 'their domain'}: removed or gone")
        elif directory and entry is None and c.active is not False:
            status = UNKNOWN
            note = (f"{c.name} is not in the {directory.description}, which only knows "
                    f"{', '.join(sorted(directory.domains or ())) or 'no email domain'}: it cannot say "
                    "whether they are still here")
        elif entry is not None and entry.active is not None:
            status = OWNED if entry.active else ORPHANED
            note = f"{entry.name} is {'active' if entry.active else 'inactive'} in the {directory.description}"
        elif c.active is False:
            status, note = ORPHANED, f"{c.name} is disabled according to the source that names them"
        elif entry is not None:
            status, note = OWNED, f"{entry.name} is in the {directory.description}, which does not say if active"
        else:
            status, note = OWNED, "no owner directory given: the named owner is taken as active"
        judged.append((c, status, _ev("directory", c.name, "active", subject, note=note)))
    # one active owner is enough; else one the directory cannot judge; orphaned only when all are gone
    c, status, ev = next((j for j in judged if j[1] == OWNED), next((j for j in judged if j[1] == UNKNOWN), judged[0]))
    return c.name, status, [*claim.evidence, ev]


def _nothing(node: Node, cfg: OwnerConfig, tried: str) -> list[OwnerEvidence]:
    looked = sorted({k for g in cfg.tag_keys.values() for k in g}, key=lambda k: (k.lower(), k))  # stable across runs
    ev = [_ev("nothing", "", "tags", node,
              note=f"no owner tag (keys {', '.join(looked)}), no owner list or owns edge; {tried}")]
    budget = {k.lower() for k in cfg.not_owner_tag_keys}
    for k, v in sorted(_tags(node).items()):
        if k.lower() in budget:
            ev.append(_ev("not_an_owner", v, f"tags.{k}", node,
                          note=f"tag {k} names a budget or project, not an owner"))
    return ev


def resolve_owners(view: SnapshotView, cfg: OwnerConfig, directory: Directory | None = None,
                   mapping: Sequence[MappingRule] = ()) -> dict[str, OwnerVerdict]:
    """An owner verdict for every Identity and Credential of the view."""
    if cfg.owner_nodes_as_directory:
        from_nodes = Directory.from_nodes(view.nodes.values())
        if from_nodes.entries:
            directory = from_nodes if directory is None else directory.over(from_nodes)
    out: dict[str, OwnerVerdict] = {}
    for kind in (Identity, Credential):  # identities first: credentials borrow from them
        for node in sorted((n for n in view.nodes.values() if isinstance(n, kind)), key=lambda n: n.id):
            out[node.id] = _resolve(view, node, cfg, directory, mapping, out)
    return out


def _resolve(view: SnapshotView, node: Node, cfg: OwnerConfig, directory: Directory | None,
             mapping: Sequence[MappingRule], done: Mapping[str, OwnerVerdict]) -> OwnerVerdict:
    claim = _own_claim(view, node, cfg)
    if claim is None and isinstance(node, Identity):
        claim = _from_application(view, node, cfg)
    if claim is None and isinstance(node, Identity) and cfg.propagate_from_workloads:
        claim = _from_workloads(view, node, cfg)
    if claim is None and isinstance(node, Credential) and cfg.propagate_to_credentials:
        for ident in sorted(view.identities_of(node.id)):
            borrowed = done.get(ident)
            if borrowed and borrowed.name:
                via = f"authenticates -> {view.name(ident)}"
                ev = tuple(e if e.source == "directory" and e.object == ident else
                           dataclasses.replace(e, via=f"{via}; {e.via}" if e.via else via)
                           for e in borrowed.evidence)
                return OwnerVerdict(borrowed.name, borrowed.status, ev)
    if claim is None:
        claim = _from_mapping(node, mapping)
    if claim is None:
        tried = "no workload or identity to borrow from" + ("; no mapping rule matched" if mapping else
                                                           "; no mapping file given")
        return OwnerVerdict(None, OWNERLESS, tuple(_nothing(node, cfg, tried)))
    name, status, evidence = _judge(claim, directory, node)
    return OwnerVerdict(name, status, tuple(evidence))


def _from_application(view: SnapshotView, sp: Node, cfg: OwnerConfig) -> _Claim | None:
    """The owner of a service principal that names none, from its application registration."""
    for app in view.applications_of(sp.id):
        claim = _own_claim(view, app, cfg)
        if claim is not None:
            via = f"application {app.name} signs in as {sp.name}"
            return _Claim(claim.candidates, [dataclasses.replace(e, via=via) for e in claim.evidence])
    return None


def _from_workloads(view: SnapshotView, ident: Node, cfg: OwnerConfig) -> _Claim | None:
    """The owner of what runs as an untagged identity. The first workload (by id) that names
    one is used; others that name someone else are added as evidence of the disagreement."""
    chosen: _Claim | None = None
    for wl in sorted(view.workloads_running_as(ident.id), key=lambda w: w.id):
        claim = _own_claim(view, wl, cfg)
        if claim is None:
            continue
        via = f"workload {wl.name} runs_as {ident.name}"
        evidence = [dataclasses.replace(e, via=via) for e in claim.evidence]
        if chosen is None:
            chosen = _Claim(claim.candidates, evidence)
        elif {c.name for c in claim.candidates} != {c.name for c in chosen.candidates}:
            chosen.evidence += [dataclasses.replace(e, via=via,
                                                    note="another workload running as this identity names this owner")
                                for e in claim.evidence]
    return chosen


def _from_mapping(node: Node, mapping: Sequence[MappingRule]) -> _Claim | None:
    """Last match wins, as in CODEOWNERS."""
    for rule in reversed(mapping):
        fname = rule.match(node)
        if fname:
            return _Claim(_split(rule.owner), [_ev(
                "mapping", rule.pattern, fname, node, via="owner mapping file",
                note=f"nothing on the object names an owner; the last matching rule maps it to {rule.owner}")])
    return None
