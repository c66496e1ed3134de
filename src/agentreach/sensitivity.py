"""Which systems are sensitive, from config: tags such as data-classification, types
(secrets and keys), names. Pure; the result is stored as the ``sensitivity`` annotation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from .config import ConfigError, shipped_data
from .model import Node

RANK = {"low": 1, "medium": 2, "high": 3}


def load_rules(user_file: str | Path | None = None) -> list[dict[str, Any]]:
    rules = {r["id"]: r for r in shipped_data("sensitive-systems.yaml")["rules"]}
    if user_file:
        path = Path(user_file).expanduser()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"sensitivity rules {path}: {exc}") from None
        for rule in data.get("rules") or []:
            if not isinstance(rule, Mapping) or "id" not in rule:
                raise ConfigError(f"sensitivity rules {path}: every rule needs an id")
            rules[rule["id"]] = {**rules.get(rule["id"], {}), **rule}
    compiled = []
    for rule in rules.values():
        if rule.get("enabled", True) is False:
            continue
        if rule.get("level") not in RANK:
            raise ConfigError(f"sensitivity rule {rule['id']!r}: level must be high, medium or low")
        try:
            compiled.append({**rule, **{k: re.compile(rule[k]) for k in ("name", "tag_key", "tag_value") if k in rule}})
        except re.error as exc:
            raise ConfigError(f"sensitivity rule {rule['id']!r}: bad regular expression ({exc})") from None
    return compiled


def assess(node: Node, rules: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """``{level, reasons}`` for a system, None when no rule matches."""
    reasons = []
    level = 0
    tags = getattr(node, "tags", None) or {}
    for rule in rules:
        if rule.get("types") and node.type not in rule["types"]:
            continue
        if "name" in rule and not rule["name"].search(node.name):
            continue
        if "tag_key" in rule or "tag_value" in rule:
            hit = [f"{k}={v}" for k, v in tags.items()
                   if ("tag_key" not in rule or rule["tag_key"].search(k))
                   and ("tag_value" not in rule or rule["tag_value"].search(v))]
            if not hit:
                continue
            reasons.append({"rule": rule["id"], "matched": hit[0], "level": rule["level"]})
        else:
            reasons.append({"rule": rule["id"], "matched": node.name if "name" in rule else node.type,
                            "level": rule["level"]})
        level = max(level, RANK[rule["level"]])
    if not reasons:
        return None
    return {"level": {v: k for k, v in RANK.items()}[level], "reasons": reasons}
