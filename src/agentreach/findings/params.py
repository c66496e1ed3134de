"""The thresholds and switches a rule takes, declared as types beside the rule's metadata.

A list a rule reads as a vocabulary (sensitive levels, access levels, codes) may not be
empty: an empty one would mean "nothing counts", which is disabling the rule
(``findings.disabled``) said in a way nobody reads.

The *values* are data (``config/findings.yaml``, a user's ``findings.rules`` over it); the
*shape* is here: which keys a rule reads, of which type, from which vocabulary. A key the
rule does not declare, a wrong type or a value outside its vocabulary is refused by name
(``findings.rules.AR-AGENT-STALE.min_acess: unknown key``) before any scan runs, instead of
being ignored. Fields have no defaults on purpose: the shipped file states every value.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Sensitivity = Literal["low", "medium", "high", "critical"]
AccessLevel = Literal["list", "read", "tagging", "write", "permissions-management"]


class RuleParams(BaseModel):
    """No parameters (and no unknown key accepted)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class AgentsScope(RuleParams):
    include_possible: bool = Field(description="also possible agents (one severity level lower)")


class SensitiveReach(AgentsScope):
    sensitive_levels: list[Sensitivity] = Field(min_length=1, description="what counts as a sensitive system")
    min_access: AccessLevel = Field(description="the weakest access that counts as reaching it")


class AdminReach(AgentsScope):
    levels: list[AccessLevel] = Field(min_length=1, description="access levels that count (admin always does)")


class AgentsOnly(RuleParams):
    agents_only: bool = Field(description="only agent (and possible agent) credentials")


class LongLived(AgentsOnly):
    codes: list[Literal["lifetime_too_long", "no_expiry", "never_rotated", "rotation_overdue"]] = Field(
        min_length=1, description="lifecycle codes this rule reports")


class Reuse(AgentsScope):
    min_agents: int = Field(ge=2, description="agents or workloads on one identity before it is reuse")


class ConfusedDeputy(AgentsScope, AgentsOnly):
    services: list[str] = Field(description="service principals whose trust needs a source condition")
    condition_keys: list[str] = Field(min_length=1, description="condition keys that guard such a trust")


class UnknownAccount(AgentsScope, AgentsOnly):
    known_accounts: list[str] = Field(description="partner accounts that are expected")
    mitigating_condition_keys: list[str] = Field(description="conditions that make a cross-account trust safe")


class ApiKeyTypes(RuleParams):
    types: list[str] = Field(min_length=1, description="credential types whose attrs carry restrictions")


class Federation(RuleParams):
    sensitive_levels: list[Sensitivity] = Field(min_length=1, description="what counts as a sensitive system")
    public_issuers: list[str] = Field(min_length=1, description="multi-tenant OIDC issuers that need a subject "
                                                             "condition")


class ProfileDrift(RuleParams):
    sensitive_levels: list[Sensitivity] = Field(min_length=1, description="systems whose drift raises the severity")
    max_listed: int = Field(ge=1, description="actions named per system in the evidence (the rest are counted)")


class ReviewGrace(RuleParams):
    grace_days: int = Field(ge=0, description="days past a profile's review date before it is reported")


class Retirement(RuleParams):
    grace_days: int = Field(ge=0, description="days past a credential's planned retirement before it is reported")


class SensitiveFirstUse(AgentsScope):
    sensitive_levels: list[Sensitivity] = Field(min_length=1, description="what counts as a sensitive system")
    window_days: int = Field(ge=1, description="a first use this recent is reported")


class UnusedGrants(AgentsScope):
    min_days_observed: int = Field(ge=1, description="activity must span at least this many days before a grant "
                                                     "is called unused")


class OrphanedActivity(RuleParams):
    owner_statuses: list[Literal["orphaned", "ownerless"]] = Field(
        min_length=1, description="owner verdicts whose credentials' activity is reported")
