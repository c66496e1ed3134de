"""Application and service-principal credentials as credential nodes (pure).

Three kinds, each authenticating as a service principal: client secrets
(``passwordCredentials``), certificates (``keyCredentials``) and federated identity
credentials (an external OIDC issuer + subject that Entra trusts instead of a secret).
Only public metadata is kept: keyId, Graph's three-character ``hint`` (Graph shows it to
anyone who can read the app), dates, the certificate thumbprint. ``secretText`` and key
values are never read into a record, even if an API returned them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from agentreach.model import Credential, CredentialStatus, Edge, EdgeKind

from .ids import PROVIDER, SOURCE, credential_id, date, host_of


@dataclass(frozen=True)
class LastUse:
    """Sign-in activity of one credential (appCredentialSignInActivities), by keyId."""

    when: dt.datetime | None
    detail: str | None


def _status(end: dt.datetime | None, now: dt.datetime) -> CredentialStatus:
    return CredentialStatus.EXPIRED if end is not None and end <= now else CredentialStatus.ACTIVE


def thumbprint(custom_key_identifier: Any) -> str | None:
    """Graph returns a certificate's SHA-1 thumbprint base64-encoded in customKeyIdentifier."""
    if not custom_key_identifier or not isinstance(custom_key_identifier, str):
        return None
    try:
        raw = base64.b64decode(custom_key_identifier, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex().upper() if len(raw) == 20 else None


def _common(owner: Mapping[str, Any], holder_kind: str, tenant: str, cred: Mapping[str, Any],
            usage: Mapping[str, LastUse] | None) -> dict[str, Any]:
    key = str(cred.get("keyId") or "").lower()
    use = (usage or {}).get(key)
    return {
        "attrs": {
            "holder": holder_kind, "holder_object_id": owner.get("id"),
            "holder_app_id": owner.get("appId"), "holder_name": owner.get("displayName"),
            # None: the report could not be read, so "never used" cannot be told from "unknown"
            "last_used_source": "appCredentialSignInActivities" if usage is not None else None,
        },
        "last_used": use.when if use else None,
        "last_used_detail": use.detail if use else None,
        "account": tenant,
    }


def transform(owner: Mapping[str, Any], holder_kind: str, identity: str, tenant: str, now: dt.datetime,
              usage: Mapping[str, LastUse] | None) -> Iterator[Credential | Edge]:
    """Credentials of one application or service principal, each -authenticates-> ``identity``."""
    for cred in owner.get("passwordCredentials") or []:
        if not cred.get("keyId"):
            continue
        key = str(cred["keyId"]).lower()
        base = _common(owner, holder_kind, tenant, cred, usage)
        hint = cred.get("hint")
        end = date(cred.get("endDateTime"))
        node = Credential(
            id=credential_id("client_secret", key), provider=PROVIDER, source=SOURCE, type="azure_client_secret",
            name=cred.get("displayName") or f"client secret {key[:8]}", native_id=key, account=base["account"],
            created=date(cred.get("startDateTime")), expires=end, status=_status(end, now),
            last_used=base["last_used"], last_used_detail=base["last_used_detail"],
            preview=f"{hint}…" if isinstance(hint, str) and hint else None,
            attrs={**base["attrs"], "hint": hint if isinstance(hint, str) else None},
        )
        yield node
        yield Edge(src=node.id, dst=identity, kind=EdgeKind.AUTHENTICATES, source=SOURCE)
    for cred in owner.get("keyCredentials") or []:
        if not cred.get("keyId"):
            continue
        key = str(cred["keyId"]).lower()
        base = _common(owner, holder_kind, tenant, cred, usage)
        thumb = thumbprint(cred.get("customKeyIdentifier"))
        end = date(cred.get("endDateTime"))
        node = Credential(
            id=credential_id("certificate", key), provider=PROVIDER, source=SOURCE, type="azure_certificate",
            name=cred.get("displayName") or f"certificate {key[:8]}", native_id=key, account=base["account"],
            created=date(cred.get("startDateTime")), expires=end, status=_status(end, now),
            last_used=base["last_used"], last_used_detail=base["last_used_detail"],
            attrs={**base["attrs"], "thumbprint_sha1": thumb, "key_type": cred.get("type"),
                   "usage": cred.get("usage")},
        )
        yield node
        yield Edge(src=node.id, dst=identity, kind=EdgeKind.AUTHENTICATES, source=SOURCE)
    for fic in owner.get("federatedIdentityCredentials") or []:
        if not fic.get("id"):
            continue
        issuer, subject = str(fic.get("issuer") or ""), str(fic.get("subject") or "")
        node = Credential(
            id=credential_id("federated_credential", str(fic["id"])), provider=PROVIDER, source=SOURCE,
            type="azure_federated_credential", name=f"{host_of(issuer)} {subject}".strip(),
            native_id=str(fic["id"]).lower(), account=tenant,
            attrs={"holder": holder_kind, "holder_object_id": owner.get("id"), "holder_app_id": owner.get("appId"),
                   "holder_name": owner.get("displayName"), "fic_name": fic.get("name"), "issuer": issuer,
                   "subject": subject, "audiences": list(fic.get("audiences") or []),
                   "description": fic.get("description"),
                   # federated tokens have no keyId in the credential report
                   "last_used_source": None},
        )
        yield node
        yield Edge(src=node.id, dst=identity, kind=EdgeKind.AUTHENTICATES, source=SOURCE)


def usage_by_key(items: list[Mapping[str, Any]]) -> dict[str, LastUse]:
    """appCredentialSignInActivities by keyId (the latest when a key appears twice)."""
    out: dict[str, LastUse] = {}
    for item in items:
        key = str(item.get("keyId") or "").lower()
        when = date((item.get("signInActivity") or {}).get("lastSignInDateTime"))
        if not key:
            continue
        if key not in out or (when and (out[key].when is None or when > out[key].when)):
            detail = f"{item.get('keyType') or 'credential'} sign-in"
            if item.get("resourceId"):
                detail += f" to resource {item['resourceId']}"
            out[key] = LastUse(when, detail)
    return out
