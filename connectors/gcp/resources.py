"""Data systems under a project whose IAM policies are readable: Cloud Storage buckets,
Secret Manager secrets and BigQuery datasets (REST). Each is a System with its policy in
``resource_policy`` (Google's JSON, version 3) and ``attrs.parent = projects/<id>``.

BigQuery datasets carry access as an ``access`` list rather than a policy; it is turned
into equivalent bindings (the basic dataset roles map to their predefined roles).
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Iterator, Mapping

from agentreach.model import System, node_id

from .calls import GcpCalls
from .ids import PROVIDER, SOURCE, labels, parse_time, policy_dict, public_members

BQ_BASIC_ROLES = {"OWNER": "roles/bigquery.dataOwner", "WRITER": "roles/bigquery.dataEditor",
                  "READER": "roles/bigquery.dataViewer"}


def get_buckets(calls: GcpCalls, project: str) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    out = []
    for bucket in calls.rest_pages("storage", "/storage/v1/b", "items", {"project": project},
                                   operation="buckets.list", project=project, size_param="maxResults"):
        pol = calls.rest("storage", f"/storage/v1/b/{urllib.parse.quote(bucket['name'], safe='')}/iam",
                         {"optionsRequestedPolicyVersion": 3}, operation="buckets.getIamPolicy", project=project)
        out.append((bucket, policy_dict(pol) if pol is not None else None))
    return out


def get_secrets(calls: GcpCalls, project: str) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    out = []
    for secret in calls.rest_pages("secretmanager", f"/v1/projects/{project}/secrets", "secrets",
                                   operation="secrets.list", project=project):
        short = secret["name"].rsplit("/", 1)[-1]
        pol = calls.rest("secretmanager", f"/v1/projects/{project}/secrets/{short}:getIamPolicy",
                         {"options.requestedPolicyVersion": 3}, operation="secrets.getIamPolicy", project=project)
        out.append((secret, policy_dict(pol) if pol is not None else None))
    return out


def get_datasets(calls: GcpCalls, project: str) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    out = []
    for item in calls.rest_pages("bigquery", f"/bigquery/v2/projects/{project}/datasets", "datasets",
                                 operation="datasets.list", project=project, size_param="maxResults"):
        ds_id = item["datasetReference"]["datasetId"]
        # accessPolicyVersion=3: conditional access entries come with their condition (older
        # versions rename their role "…_withcond_<hash>" and drop it; BigQuery datasets.get reference)
        full = calls.rest("bigquery", f"/bigquery/v2/projects/{project}/datasets/{ds_id}", {"accessPolicyVersion": 3},
                          operation="datasets.get", project=project)
        out.append((full or item, dataset_policy(full["access"]) if full and "access" in full else None))
    return out


def dataset_policy(access: list[Mapping[str, Any]]) -> dict[str, Any]:
    """A dataset's ``access`` entries as IAM bindings, one per (role, condition), the
    conditions kept (views, routines and datasets that are authorised on it are not
    principals and are left out)."""
    by_role: dict[tuple[str, str], tuple[set[str], Mapping[str, Any] | None]] = {}
    for entry in access:
        role = BQ_BASIC_ROLES.get(str(entry.get("role")), entry.get("role"))
        member = None
        if entry.get("userByEmail"):
            email = entry["userByEmail"]
            member = f"serviceAccount:{email}" if email.endswith("gserviceaccount.com") else f"user:{email}"
        elif entry.get("groupByEmail"):
            member = f"group:{entry['groupByEmail']}"
        elif entry.get("domain"):
            member = f"domain:{entry['domain']}"
        elif entry.get("iamMember"):
            member = entry["iamMember"]
        elif entry.get("specialGroup") == "allAuthenticatedUsers":
            member = "allAuthenticatedUsers"
        elif entry.get("specialGroup"):
            member = f"specialGroup:{entry['specialGroup']}"
        if role and member:
            condition = entry.get("condition") if isinstance(entry.get("condition"), Mapping) else None
            key = (str(role), str((condition or {}).get("expression") or ""))
            members, _ = by_role.setdefault(key, (set(), condition))
            members.add(member)
    bindings = []
    for (role, _), (members, condition) in sorted(by_role.items()):
        binding: dict[str, Any] = {"role": role, "members": sorted(members)}
        if condition:
            binding["condition"] = {k: condition[k] for k in ("expression", "title", "description") if k in condition}
        bindings.append(binding)
    return policy_dict({"version": 3, "bindings": bindings})


def _system(type_: str, short: str, native: str, name: str, project: str, created: Any,
            raw_labels: Mapping[str, Any] | None, policy: Mapping[str, Any] | None, extra: Mapping[str, Any]) -> System:
    attrs = {"parent": f"projects/{project}", "project": project, "policy_readable": policy is not None, **extra}
    if policy is not None:
        attrs["public_members"] = public_members(policy)
    return System(id=node_id(PROVIDER, type_, short), provider=PROVIDER, source=SOURCE, type=f"gcp_{type_}", name=name,
                  native_id=native, account=project, created=parse_time(created), tags=labels(raw_labels),
                  resource_policy=dict(policy) if policy is not None else None, attrs=attrs)


def transform(project: str, buckets: list[tuple[dict[str, Any], Any]], secrets: list[tuple[dict[str, Any], Any]],
              datasets: list[tuple[dict[str, Any], Any]]) -> Iterator[System]:
    for bucket, pol in buckets:
        yield _system("bucket", bucket["name"], f"projects/_/buckets/{bucket['name']}", bucket["name"], project,
                      bucket.get("timeCreated"), bucket.get("labels"), pol, {"location": bucket.get("location")})
    for secret, pol in secrets:
        short = secret["name"].rsplit("/", 1)[-1]
        yield _system("secret", f"{project}/{short}", f"projects/{project}/secrets/{short}", short, project,
                      secret.get("createTime"), secret.get("labels"), pol,
                      {"resource_name": secret["name"], "rotation": secret.get("rotation") or {}})
    for ds, pol in datasets:
        ref = ds["datasetReference"]
        yield _system("bigquery_dataset", f"{ref['projectId']}:{ref['datasetId']}",
                      f"projects/{ref['projectId']}/datasets/{ref['datasetId']}", ref["datasetId"], project,
                      ds.get("creationTime"), ds.get("labels"), pol, {"location": ds.get("location")})
