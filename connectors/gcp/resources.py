"""Data systems under a project whose IAM policies are readable: Cloud Storage buckets,
Secret Manager secrets and BigQuery datasets (REST). Each is a System with its policy in
``resource_policy`` (Google's JSON, version 3) and ``attrs.parent = projects/<id>``.

BigQuery datasets carry access as an ``access`` list rather than a policy; it is turned
into equivalent bindings (the basic dataset roles map to their predefined roles).
"""

from __future__ import annotations

import base64
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, Mapping, Sequence

from agentreach import secretvalues
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


def get_secrets(calls: GcpCalls, project: str,
                stats: secretvalues.ValueStats | None = None) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each secret with its IAM policy; with ``match_secret_values`` also ``ValueRead``: its
    latest version accessed and named in memory (:func:`get_value_identities`)."""
    out = []
    for secret in calls.rest_pages("secretmanager", f"/v1/projects/{project}/secrets", "secrets",
                                   operation="secrets.list", project=project):
        short = secret["name"].rsplit("/", 1)[-1]
        pol = calls.rest("secretmanager", f"/v1/projects/{project}/secrets/{short}:getIamPolicy",
                         {"options.requestedPolicyVersion": 3}, operation="secrets.getIamPolicy", project=project)
        out.append((secret, policy_dict(pol) if pol is not None else None))
    if calls.cfg.match_secret_values and out:
        scanners = secretvalues.secret_scanners()
        with ThreadPoolExecutor(max_workers=calls.cfg.value_workers, thread_name_prefix="gcp-values") as pool:
            reads = list(pool.map(lambda item: get_value_identities(
                calls, project, item[0]["name"].rsplit("/", 1)[-1], scanners, stats), out))
        out = [({**secret, "ValueRead": read}, pol) for (secret, pol), read in zip(out, reads, strict=True)]
    return out


VALUE_OPERATION = "versions.access"
VALUE_VERSION = "latest"


def get_value_identities(calls: GcpCalls, project: str, short: str, scanners: Sequence[Any] = (),
                         stats: secretvalues.ValueStats | None = None) -> dict[str, Any]:
    """The latest version of one secret (``versions/latest:access``), its payload checked
    against ``dataCrc32c``, decoded and named in memory: the ``value_read`` record, no value in
    it. Denied (no ``secretmanager.versions.access``, a CMEK key the caller may not use), a
    disabled latest version or a payload that fails its checksum is a gap for this secret."""
    stats = stats if stats is not None else secretvalues.ValueStats()
    errors: list[str] = []
    body = calls.rest("secretmanager", f"/v1/projects/{project}/secrets/{short}/versions/{VALUE_VERSION}:access",
                      operation=VALUE_OPERATION, project=project, errors=errors)
    if body is None:
        if errors:
            status = secretvalues.failure_status(errors[-1])
            stats.add(status)
            return secretvalues.read_record(status, VALUE_OPERATION, VALUE_VERSION,
                                            reason=f"{errors[-1]} (coverage gap)")
        stats.add("absent")
        return secretvalues.read_record("absent", VALUE_OPERATION, VALUE_VERSION, reason="the secret has no version")
    version = str(body.get("name") or "").rsplit("/", 1)[-1] or None
    payload = body.get("payload") if isinstance(body.get("payload"), Mapping) else {}
    encoded, crc = payload.get("data"), payload.get("dataCrc32c")
    body.clear()
    del body, payload
    try:
        value = base64.b64decode(encoded or "", validate=True)
    except (ValueError, TypeError):
        value = None
    del encoded
    if value is None or (crc is not None and str(crc) != str(crc32c(value))):
        calls.gap(VALUE_OPERATION, "DATA_LOSS", f"secret projects/{project}/secrets/{short}: the payload is not "
                  "base64 or fails its dataCrc32c checksum", account=project, service="secretmanager")
        stats.add("failed")
        return secretvalues.read_record("failed", VALUE_OPERATION, VALUE_VERSION, version_id=version,
                                        reason="DATA_LOSS (coverage gap)")
    record = secretvalues.named_record(value, calls.ctx, scanners, stats, VALUE_OPERATION, VALUE_VERSION, version)
    del value
    return record


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), what Secret Manager's ``dataCrc32c`` holds (RFC 3720 B.4)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


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


def _value_attrs(read: Mapping[str, Any] | None) -> dict[str, Any]:
    """``value_identities`` and ``value_read`` when values were matched; nothing otherwise."""
    if not read:
        return {}
    read = dict(read)
    return {secretvalues.ATTR: read.pop("identities", None) or [], secretvalues.READ_ATTR: read}


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
                      {"resource_name": secret["name"], "rotation": secret.get("rotation") or {},
                       **_value_attrs(secret.get("ValueRead"))})
    for ds, pol in datasets:
        ref = ds["datasetReference"]
        yield _system("bigquery_dataset", f"{ref['projectId']}:{ref['datasetId']}",
                      f"projects/{ref['projectId']}/datasets/{ref['datasetId']}", ref["datasetId"], project,
                      ds.get("creationTime"), ds.get("labels"), pol, {"location": ds.get("location")})
