"""API keys (API Keys API v2): which APIs each key may call, never the key itself.

``keys.list`` answers ``Key`` objects with ``uid``, ``displayName``, ``createTime`` and
``restrictions`` (``apiTargets[{service, methods}]`` and one of browser / server / android
/ ios restrictions). The key string is a secret: ``getKeyString`` is never called, and a
``keyString`` that an answer might carry is dropped here without being read.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from agentreach.model import Credential, CredentialStatus, Edge, EdgeKind, Record, node_id

from .calls import GcpCalls
from .ids import PROVIDER, SOURCE, labels, parse_time, sa_id

APPLICATION_RESTRICTIONS = {"browserKeyRestrictions": "browser", "serverKeyRestrictions": "server",
                            "androidKeyRestrictions": "android", "iosKeyRestrictions": "ios"}


def get(calls: GcpCalls, project: str) -> list[dict[str, Any]]:
    keys = calls.rest_pages("apikeys", f"/v2/projects/{project}/locations/global/keys", "keys",
                            operation="keys.list", project=project)
    return [{k: v for k, v in key.items() if k != "keyString"} for key in keys]


def transform(keys: list[Mapping[str, Any]], project: str) -> Iterator[Record]:
    for key in keys:
        restrictions = key.get("restrictions") or {}
        targets = [str(t.get("service")) for t in restrictions.get("apiTargets") or [] if t.get("service")]
        kinds = [label for field_, label in APPLICATION_RESTRICTIONS.items() if restrictions.get(field_)]
        uid = str(key.get("uid") or key["name"].rsplit("/", 1)[-1])
        deleted = bool(key.get("deleteTime"))
        cred = Credential(
            id=node_id(PROVIDER, "api_key", uid), provider=PROVIDER, source=SOURCE, type="gcp_api_key",
            name=key.get("displayName") or key["name"].rsplit("/", 1)[-1], native_id=uid, account=project,
            created=parse_time(key.get("createTime")),
            status=CredentialStatus.DISABLED if deleted else CredentialStatus.ACTIVE,
            tags=labels(key.get("annotations")),
            attrs={"key_name": key.get("name"), "api_targets": targets, "api_restricted": bool(targets),
                   "restrictions": {"application": kinds or ["none"], "api_targets": [
                       {"service": t.get("service"), "methods": list(t.get("methods") or [])}
                       for t in restrictions.get("apiTargets") or []]},
                   "service_account": key.get("serviceAccountEmail"), "last_used_source": None})
        yield cred
        if key.get("serviceAccountEmail"):
            yield Edge(src=cred.id, dst=sa_id(key["serviceAccountEmail"]), kind=EdgeKind.AUTHENTICATES,
                       source=SOURCE, attrs={"via": "API key bound to a service account"})
