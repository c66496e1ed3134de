"""One schema for the whole configuration, checked when it is loaded, before any command runs.

Every section has a declared shape: the core's sections are the models below; ``findings``,
``ownership`` and ``lifecycle`` are checked by the layers that own them (each rule declares
its parameters); each connector's section by that connector's own config validator, named
in its plugin. A misspelled key, a wrong type, a value out of range or a file that is not
there is refused with one line naming the file, the dotted key and its line in the user's
YAML, and the usage exit code: never accepted silently, never a traceback.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Severity = Literal["critical", "high", "medium", "low", "info"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _existing_file(value: str | None) -> str | None:
    if value is not None and not Path(value).expanduser().is_file():
        raise ValueError(f"no such file {value}")
    return value


class StoreSection(_Section):
    path: str | None = None


class ScanSection(_Section):
    connectors: list[str] = Field(min_length=1)
    batch_size: int = Field(ge=1, le=100_000)


class KdfSection(_Section):
    """The cost of a new secret-id scheme (agentreach.fingerprints): scrypt's N, r and p."""

    n: int = Field(ge=2**14, le=2**20)
    r: int = Field(ge=8, le=32)
    p: int = Field(ge=1, le=16)

    @field_validator("n")
    @classmethod
    def _power_of_two(cls, v: int) -> int:
        if v & (v - 1):
            raise ValueError("must be a power of two")
        return v


class GateSection(_Section):
    block_rules: list[str]
    block_severities: list[Severity]
    allow_gaps: bool
    block_untriaged_possible: bool = False
    baseline: str | None = None
    fingerprint_kdf: KdfSection


class ReviewSection(_Section):
    """Where the reviewed agents file is (it need not exist: then nothing is reviewed)."""

    file: str = Field(min_length=1)


class SensitivitySection(_Section):
    rules_file: str | None = None

    @field_validator("rules_file")
    @classmethod
    def _exists(cls, v: str | None) -> str | None:
        return _existing_file(v)


class ClassifierSection(_Section):
    signals_file: str | None = None
    prior: float = Field(gt=0, lt=1)
    agent_threshold: float = Field(gt=0, le=1)
    possible_threshold: float = Field(gt=0, lt=1)

    @field_validator("signals_file")
    @classmethod
    def _exists(cls, v: str | None) -> str | None:
        return _existing_file(v)

    @field_validator("prior", "agent_threshold", "possible_threshold", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError("must be a number")
        return float(v)

    @model_validator(mode="after")
    def _ordered(self) -> "ClassifierSection":
        if self.possible_threshold >= self.agent_threshold:
            raise ValueError("possible_threshold must be below agent_threshold")
        return self


class LifecycleSection(_Section):
    """config/owners.yaml's lifecycle thresholds: whole days, none negative."""

    unused_days: int = Field(ge=0)
    never_used_grace_days: int = Field(ge=0)
    rotation_days: int = Field(ge=1)
    expiry_warning_days: int = Field(ge=0)
    max_lifetime_days: int = Field(ge=1)
    stale_codes: list[str]
    tracks_last_use: list[str]
    usage_exempt_types: list[str]
    rotation_exempt_types: list[str]
    lifetime_exempt_types: list[str]
    expiry_expected_types: list[str]
    single_active_types: list[str]
    secret_types: list[str]


class OwnershipSection(_Section):
    tag_keys: dict[str, list[str]]
    attr_fields: dict[str, list[str]]
    priority: list[str]
    not_owner_tag_keys: list[str]
    propagate_from_workloads: bool
    propagate_to_credentials: bool
    owner_nodes_as_directory: bool
    directory_file: str | None = None
    mapping_file: str | None = None

    @field_validator("directory_file", "mapping_file")
    @classmethod
    def _exists(cls, v: str | None) -> str | None:
        return _existing_file(v)


class TopLevel(_Section):
    """The sections a config may have; each one a mapping."""

    store: StoreSection
    scan: ScanSection
    ownership: dict[str, Any]
    lifecycle: dict[str, Any]
    findings: dict[str, Any]
    gate: GateSection
    review: ReviewSection
    sensitivity: SensitivitySection
    classifier: ClassifierSection
    connectors: dict[str, dict[str, Any] | None]


# -- where a key is in the user's file -------------------------------------------------------

def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Dotted key path -> 1-based line of the key in a YAML text (mappings only)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    out: dict[tuple[str, ...], int] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = (*path, str(key.value))
                out[here] = key.start_mark.line + 1
                walk(value, here)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                out[(*path, str(i))] = item.start_mark.line + 1
                walk(item, (*path, str(i)))

    walk(root, ())
    return out


def line_of(lines: Mapping[tuple[str, ...], int], dotted: str) -> int | None:
    """The line of ``dotted`` or of its nearest ancestor the file states."""
    parts = tuple(p for p in dotted.replace("[", ".").replace("]", "").split(".") if p)
    while parts:
        if parts in lines:
            return lines[parts]
        parts = parts[:-1]
    return None


def pydantic_problem(exc: ValidationError, prefix: str = "") -> tuple[str, str]:
    """(dotted key, what is wrong) of the first error."""
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err.get("loc") or ())
    key = ".".join(p for p in (prefix, loc) if p)
    if err.get("type") == "extra_forbidden":
        return key, "unknown key"
    if err.get("type") == "missing":
        return key, "required"
    msg = str(err.get("msg") or "invalid").removeprefix("Value error, ")
    return key, re.sub(r" or instance of \w+", "", msg)
