"""Access classes: which granted actions read a system's data and which only its metadata.

A responder asks "who can read the data in this bucket?", and a grant of SecurityAudit or of
Reader at subscription scope reads *about* the bucket, never *in* it. The answer needs each
granted action put in a class (read-data, write-data, read-metadata, write-config,
permissions-management; admin is the evaluator's), per system type, and that table is data:
``config/access-classes.yaml``, loaded once here and checked with a one-line error naming the
entry. Each provider's deriver calls :func:`classify_aws`, :func:`classify_gcp` or (for Azure's
patterns and planes) :meth:`AccessClasses.azure_rules`, and records the result on the edge's
:class:`agentreach.graph.grant.AccessGrant`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

import yaml

from ..config import ConfigError, shipped
from ..order import ACCESS_CLASSES

FILE = "config/access-classes.yaml"
CLASSES = frozenset(ACCESS_CLASSES) - {"admin"}
AZURE_FLAGS = frozenset({"shared_key_allowed", "rbac_authorization", "access_policies"})


@dataclass(frozen=True)
class Rule:
    match: tuple[str, ...]  # lower-case patterns
    classes: tuple[str, ...]
    with_: tuple[str, ...] = ()  # lower-case names that must be granted too (AWS)
    plane: str | None = None  # Azure: control | data
    when: str | None = None  # Azure: a fact of the target
    otherwise: tuple[str, ...] = ()

    def matches(self, name: str) -> bool:
        return any(fnmatchcase(name, p) for p in self.match)


@dataclass(frozen=True)
class Classified:
    """Classes held (and of them, those held only under a condition), with the actions behind each."""

    classes: frozenset[str] = frozenset()
    conditional: frozenset[str] = frozenset()
    actions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class AccessClasses:
    fallback: Mapping[str, Mapping[str, str]]
    aws: Mapping[str, tuple[Rule, ...]]  # service prefix -> rules
    aws_types: Mapping[str, str]  # system type -> service prefix
    azure: Mapping[str, tuple[Rule, ...]]  # system type -> rules
    azure_data_plane_when: Mapping[str, str]
    azure_access_policies: Mapping[str, Mapping[str, tuple[str, ...]]]
    gcp: Mapping[str, tuple[Rule, ...]]  # system type -> rules
    _cache: dict[Any, Classified] = field(default_factory=dict, repr=False)

    def azure_rules(self, system_type: str | None) -> tuple[Rule, ...]:
        return self.azure.get(system_type or "", ())


def _fail(where: str, what: str) -> ConfigError:
    return ConfigError(f"{FILE}: {where}: {what}")


def _names(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise _fail(where, "must be a non-empty list of names")
    return tuple(v.lower() for v in value)


def _classes(value: Any, where: str) -> tuple[str, ...]:
    names = _names(value, where)
    bad = [c for c in names if c not in CLASSES]
    if bad:
        raise _fail(where, f"unknown access class {bad[0]!r} (one of {', '.join(sorted(CLASSES))})")
    return names


def _rules(items: Any, where: str, provider: str) -> tuple[Rule, ...]:
    if not isinstance(items, list):
        raise _fail(where, "rules must be a list")
    out = []
    allowed = {"aws": {"match", "classes", "with"}, "azure": {"match", "classes", "plane", "when", "otherwise"},
               "gcp": {"match", "classes"}}[provider]
    for i, item in enumerate(items):
        at = f"{where} rule {i + 1}"
        if not isinstance(item, Mapping):
            raise _fail(at, "is not a mapping")
        unknown = set(item) - allowed
        if unknown:
            raise _fail(at, f"unknown key {sorted(unknown)[0]!r}")
        plane = item.get("plane")
        if provider == "azure" and plane not in ("control", "data"):
            raise _fail(at, "plane must be control or data")
        when = item.get("when")
        if when is not None and when not in AZURE_FLAGS:
            raise _fail(at, f"when must be one of {', '.join(sorted(AZURE_FLAGS))}")
        out.append(Rule(match=_names(item.get("match"), f"{at} match"), classes=_classes(item.get("classes"), at),
                        with_=_names(item["with"], f"{at} with") if "with" in item else (), plane=plane, when=when,
                        otherwise=_classes(item["otherwise"], f"{at} otherwise") if "otherwise" in item else ()))
    return tuple(out)


def parse(data: Any) -> AccessClasses:
    """The table from its YAML form; raises ConfigError naming the bad entry."""
    if not isinstance(data, Mapping):
        raise _fail("top level", "is not a mapping")
    fallback = data.get("fallback") or {}
    for provider in ("aws", "azure", "gcp"):
        table = fallback.get(provider)
        if not isinstance(table, Mapping):
            raise _fail(f"fallback.{provider}", "is missing")
        for key, cls in table.items():
            _classes(cls, f"fallback.{provider}.{key}")
    aws: dict[str, tuple[Rule, ...]] = {}
    aws_types: dict[str, str] = {}
    for service, spec in (data.get("aws") or {}).items():
        if not isinstance(spec, Mapping):
            raise _fail(f"aws.{service}", "is not a mapping")
        aws[str(service).lower()] = _rules(spec.get("rules") or [], f"aws.{service}", "aws")
        for t in spec.get("types") or []:
            aws_types[str(t)] = str(service).lower()
    azure: dict[str, tuple[Rule, ...]] = {}
    when: dict[str, str] = {}
    policies: dict[str, dict[str, tuple[str, ...]]] = {}
    for stype, spec in (data.get("azure") or {}).items():
        if not isinstance(spec, Mapping):
            raise _fail(f"azure.{stype}", "is not a mapping")
        azure[str(stype)] = _rules(spec.get("rules") or [], f"azure.{stype}", "azure")
        if spec.get("data_plane_when"):
            if spec["data_plane_when"] not in AZURE_FLAGS:
                raise _fail(f"azure.{stype}.data_plane_when", f"must be one of {', '.join(sorted(AZURE_FLAGS))}")
            when[str(stype)] = spec["data_plane_when"]
        for kind, perms in (spec.get("access_policies") or {}).items():
            if not isinstance(perms, Mapping):
                raise _fail(f"azure.{stype}.access_policies.{kind}", "is not a mapping")
            policies[str(kind).lower()] = {str(op).lower(): _classes(c, f"azure.{stype}.access_policies.{kind}.{op}")
                                           for op, c in perms.items()}
    gcp = {str(t): _rules((spec or {}).get("rules") or [], f"gcp.{t}", "gcp")
           for t, spec in (data.get("gcp") or {}).items()}
    return AccessClasses(fallback={p: {str(k): str(v) for k, v in fallback[p].items()}
                                   for p in ("aws", "azure", "gcp")},
                         aws=aws, aws_types=aws_types, azure=azure, azure_data_plane_when=when,
                         azure_access_policies=policies, gcp=gcp)


@lru_cache(maxsize=1)
def access_classes() -> AccessClasses:
    """The shipped table, parsed once per process."""
    try:
        return parse(yaml.safe_load(shipped("access-classes.yaml")))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{FILE}: not YAML ({exc})") from None


def _collect(items: Iterable[tuple[str, tuple[str, ...], bool]]) -> Classified:
    """(action, its classes, conditional) -> the classes, each conditional only when every
    action giving it is, and the actions behind each class."""
    by_class: dict[str, list[str]] = {}
    sure: set[str] = set()
    for action, classes, conditional in items:
        for c in classes:
            by_class.setdefault(c, []).append(action)
            if not conditional:
                sure.add(c)
    held = frozenset(by_class)
    return Classified(classes=held, conditional=held - sure,
                      actions={c: tuple(sorted(set(v))) for c, v in sorted(by_class.items())})


def _classify(provider: str, system_type: str | None, held: Iterable[str], conditional: Iterable[str],
              classes_for: Callable[[frozenset[str]], Callable[[str], tuple[str, ...]]]) -> Classified:
    """The classes of ``held`` (cached per provider, type and the two sets: a scan asks the
    same question for many principals with the same grant). ``classes_for(held)`` returns the
    function that classes one action."""
    table = access_classes()
    acts = frozenset(held)
    cond = frozenset(conditional) & acts
    key = (provider, system_type, acts, cond)
    hit = table._cache.get(key)
    if hit is not None:
        return hit
    one = classes_for(acts)
    out = _collect((a, one(a), a in cond) for a in sorted(acts))
    if len(table._cache) > 50_000:
        table._cache.clear()
    table._cache[key] = out
    return out


def classify_aws(system_type: str | None, actions: Iterable[str], conditional: Iterable[str] = (),
                 level_of: Callable[[str], str] | None = None) -> Classified:
    """AWS actions (``s3:GetObject``) granted on a system of ``system_type`` (None: a whole
    service). ``level_of`` gives the catalogue's access level for the fallback."""
    table = access_classes()
    if level_of is None:
        from .aws.catalogue import default_catalogue

        level_of = default_catalogue().access_level
    fallback = table.fallback["aws"]
    level = level_of

    def classes_for(acts: frozenset[str]) -> Callable[[str], tuple[str, ...]]:
        granted = {a.lower() for a in acts}

        def classes_of(action: str) -> tuple[str, ...]:
            service, _, name = action.lower().partition(":")
            for rule in table.aws.get(service, ()):
                if rule.matches(name) and all(f"{service}:{w}" in granted for w in rule.with_):
                    return rule.classes
            return (fallback.get(level(action), "write-config"),)
        return classes_of

    return _classify("aws", system_type, actions, conditional, classes_for)


def gcp_fallback(perm: str) -> str:
    table = access_classes().fallback["gcp"]
    verb = perm.rsplit(".", 1)[-1]
    if verb.startswith("setIamPolicy"):
        return table.get("setIamPolicy", "permissions-management")
    if verb.startswith("list"):
        return table.get("list", "read-metadata")
    if verb.startswith(("get", "read", "search", "lookup", "view", "query")):
        return table.get("get", "read-metadata")
    return table.get("other", "write-config")


def classify_gcp(system_type: str | None, perms: Iterable[str], conditional: Iterable[str] = ()) -> Classified:
    """GCP permissions held on a system of ``system_type``; a folder, project or
    organization is judged by every type's rules (it holds them all)."""
    table = access_classes()
    rules = table.gcp.get(system_type or "") or tuple(r for rs in table.gcp.values() for r in rs)

    def classes_of(perm: str) -> tuple[str, ...]:
        low = perm.lower()
        for rule in rules:
            if rule.matches(low):
                return rule.classes
        return (gcp_fallback(perm),)

    return _classify("gcp", system_type, perms, conditional, lambda _: classes_of)
