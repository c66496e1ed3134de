"""A second opinion on the AWS labels: the access classes re-derived with the reference IAM
evaluator (tests/reference_iam, written from the IAM User Guide) over the actions of
classes.yaml, including what a principal reaches through the roles it may assume. A label that
disagrees is a mistake in the label or in the reference; either way it is printed, never used to
score agentreach."""

from __future__ import annotations

from typing import Any, Mapping

from tests import reference_iam as ref

from .aws import managed_policies, principal_arn, trust_policy
from .estate import CLASSES, HERE, Estate, read_yaml

CONTEXTS = ({"aws:SecureTransport": "true"}, {"aws:SecureTransport": "true", "aws:MultiFactorAuthPresent": "true"})
OBJECT_CLASSES = frozenset({"read-data", "write-data"})  # S3 classes decided on objects, not the bucket


def _documents(data: Mapping[str, Any], spec: Mapping[str, Any], managed: Mapping[str, Any]) -> list[dict]:
    docs = [p["document"] for p in spec.get("inline") or []]
    docs += [managed[n]["document"] for n in spec.get("managed") or []]
    docs += [data["customer_policies"][n]["document"] for n in spec.get("customer") or []]
    for group in spec.get("groups") or []:
        docs += _documents(data, data["groups"][group] or {}, managed)
    return docs


def _principal(data: Mapping[str, Any], spec: Mapping[str, Any], managed: Mapping[str, Any]) -> ref.Principal:
    account = str(data["account"])
    boundary = None
    if spec.get("boundary"):
        name = spec["boundary"]
        custom = data.get("customer_policies") or {}
        boundary = custom[name]["document"] if name in custom else managed[name]["document"]
    return ref.Principal(arn=principal_arn(account, spec["type"], spec.get("name", spec["id"])), kind=spec["type"],
                         identity_policies=_documents(data, spec, managed), boundary=boundary)


def _allowed(principal: ref.Principal, actions: list[str], resources: list[ref.Resource]) -> bool:
    return any(ref.evaluate(ref.Request(principal, action, res, ctx)).allowed
               for action in actions for res in resources for ctx in CONTEXTS)


def direct_classes(data: Mapping[str, Any], spec: Mapping[str, Any], classes: Mapping[str, Any],
                   managed: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    principal = _principal(data, spec, managed)
    account = str(data["account"])
    out = {}
    for label, system in data["systems"].items():
        whole = ref.Resource(arn=system["arn"], account=account, policy=system.get("resource_policy"))
        objects = [ref.Resource(arn=f"{system['arn']}/{key}", account=account, policy=system.get("resource_policy"))
                   for key in [*system.get("sample_objects", []),
                               *((spec.get("sample_objects") or {}).get(label) or [])]]
        got = set()
        for cls in CLASSES:
            targets = objects if system["type"] == "aws_s3_bucket" and cls in OBJECT_CLASSES else [whole]
            if _allowed(principal, classes[system["type"]][cls], targets):
                got.add(cls)
        out[label] = frozenset(got)
    return out


def reference_labels(estate: Estate) -> dict[tuple[str, str], frozenset[str]]:
    """(principal, system) -> classes, by the reference evaluator, through assumable roles too."""
    data = estate.raw
    classes = read_yaml(HERE / "classes.yaml")
    managed = managed_policies()
    account = str(data["account"])
    specs = {s["id"]: s for s in data["principals"]}
    direct = {label: direct_classes(data, spec, classes, managed) for label, spec in specs.items()}
    roles = {label: ref.Resource(arn=principal_arn(account, "role", spec.get("name", label)), account=account,
                                 policy=trust_policy(spec.get("trust", "account"), account))
             for label, spec in specs.items() if spec["type"] == "role"}
    assumes = {label: [r for r, res in roles.items() if r != label and
                       _allowed(_principal(data, spec, managed), ["sts:AssumeRole"], [res])]
               for label, spec in specs.items()}
    out: dict[tuple[str, str], frozenset[str]] = {}
    for label in specs:
        seen, todo, acc = {label}, [label], {s: set(c) for s, c in direct[label].items()}
        while todo:
            for role in assumes[todo.pop()]:
                if role not in seen:
                    seen.add(role)
                    todo.append(role)
                    for system, cls in direct[role].items():
                        acc[system] |= cls
        for system, cls in acc.items():
            if cls:
                out[(label, system)] = frozenset(cls)
    return out


def disagreements(estate: Estate) -> list[tuple[str, str, frozenset[str], frozenset[str]]]:
    """(principal, system, hand label, reference) where they differ."""
    theirs = reference_labels(estate)
    keys = sorted(set(theirs) | set(estate.expect))
    return [(p, s, estate.expected(p, s), theirs.get((p, s), frozenset())) for p, s in keys
            if estate.expected(p, s) != theirs.get((p, s), frozenset())]
