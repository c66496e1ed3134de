"""Configuration: shipped defaults, a user's YAML file over them, flags over both.

The defaults are data (``config/defaults.yaml``, installed as the ``agentreach_config``
package), so a wheel finds them and a reader can see every knob in one place.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import os
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from .model import canonical_json

ENV_CONFIG = "AGENTREACH_CONFIG"


class ConfigError(ValueError):
    """A config file cannot be read or has the wrong shape; the message names the file."""


def shipped(name: str) -> str:
    """Text of a shipped config file."""
    return resources.files("agentreach_config").joinpath(name).read_text(encoding="utf-8")


# libyaml's parser where PyYAML was built with it (a tenth of the pure-Python one's time: every
# command reads the shipped files), the pure-Python one otherwise; both safe.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader


@functools.cache
def _shipped_data(name: str) -> Any:
    return load_yaml(shipped(name))


def shipped_data(name: str) -> Any:
    """A shipped YAML file, parsed once per process; a copy, so a caller may change it."""
    return copy.deepcopy(_shipped_data(name))


def load_defaults() -> dict[str, Any]:
    return shipped_data("defaults.yaml") or {}


def load_user_file(path: str | Path) -> dict[str, Any]:
    p = Path(path).expanduser()
    try:
        data = load_yaml(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {p} does not exist") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config file {p}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    except OSError as exc:
        raise ConfigError(f"config file {p}: {exc.strerror}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {p}: the top level must be a mapping")
    unknown = sorted(set(data) - set(load_defaults()))
    if unknown:
        raise ConfigError(f"config file {p}: unknown section(s) {', '.join(unknown)}")
    return data


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, anything else (lists included) replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def overlay(name: str, base: Mapping[str, Any], user_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """A shipped section (``base``) with the user's ``name:`` section merged over it. The
    user's may be a whole config (it has ``name`` or another top-level section) or the
    section itself; a key the shipped section does not have is refused by name."""
    user = user_config or {}
    if not isinstance(user, Mapping):
        raise ConfigError(f"{name}: must be a mapping")
    whole = name in user or bool(set(user) & set(load_defaults()))
    over = (user.get(name) or {}) if whole else user
    if not isinstance(over, Mapping):
        raise ConfigError(f"{name}: must be a mapping")
    unknown = sorted(set(over) - set(base))
    if unknown:
        raise ConfigError(f"{name}: unknown key(s) {', '.join(unknown)}")
    return merge(base, over)


def load_config(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    config = load_defaults()
    path = path or os.environ.get(ENV_CONFIG)
    if path:
        config = merge(config, load_user_file(path))
    if overrides:
        config = merge(config, overrides)
    return config


def digest(config: Mapping[str, Any]) -> str:
    """What a snapshot records so two scans can be told apart by their settings."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()
