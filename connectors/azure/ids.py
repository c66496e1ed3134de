"""Ids and small shared conversions of the Azure connector.

Entra objects are keyed by their object id (applications by appId, the client id a
responder has at hand), credentials by keyId, ARM objects by their resource id in lower
case: ARM ids are case-insensitive and different APIs spell the same one differently.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Iterable, TypeVar

from agentreach.model import node_id, parse_datetime

PROVIDER = SOURCE = "azure"
MSGRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
AADGRAPH_APP_ID = "00000002-0000-0000-c000-000000000000"
MICROSOFT_TENANTS = frozenset({"f8cdef31-a31e-4b4a-93e4-5f571e91255a", "72f988bf-86f1-41af-91ab-2d7cd011db47"})


def app_id(client_id: str) -> str:
    return node_id(PROVIDER, "app", client_id.lower())


def sp_id(object_id: str) -> str:
    return node_id(PROVIDER, "sp", object_id.lower())


def mi_id(object_id: str) -> str:
    return node_id(PROVIDER, "managed_identity", object_id.lower())


def agent_user_id(object_id: str) -> str:
    return node_id(PROVIDER, "agent_user", object_id.lower())


def user_id(object_id: str) -> str:
    return node_id(PROVIDER, "user", object_id.lower())


def person_id(object_id: str) -> str:
    """A person named by a role assignment, as a principal (their owner record is ``user_id``)."""
    return node_id(PROVIDER, "person", object_id.lower())


def group_id(object_id: str) -> str:
    return node_id(PROVIDER, "group", object_id.lower())


def credential_id(kind: str, key_id: str) -> str:
    return node_id(PROVIDER, kind, key_id.lower())


def directory_id(tenant: str) -> str:
    return node_id(PROVIDER, "directory", tenant.lower())


def arm_node_id(type_: str, resource_id: str) -> str:
    return node_id(PROVIDER, type_, resource_id.lower())


def role_definition_id(definition_id: str) -> str:
    """Built-in roles are one GUID everywhere (ARM repeats them per subscription), so the
    GUID is the key; a custom role's GUID is unique too."""
    return node_id(PROVIDER, "role_definition", definition_id.rstrip("/").rsplit("/", 1)[-1].lower())


def date(value: Any) -> dt.datetime | None:
    """Graph dates, tolerant of the forms its docs show (``-8:00`` offsets, 7-digit fractions)."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > 6 and text[-5] in "+-" and text[-3] == ":" and text[-4] != ":":  # -8:00 -> -08:00
        text = text[:-4] + "0" + text[-4:]
    if "." in text:
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        text = f"{head}.{digits[:6]}{tail[len(digits):]}"
    try:
        return parse_datetime(text)
    except ValueError:
        return None


def arm_type(resource_id: str) -> str:
    """The resource type of an ARM id: ``Microsoft.KeyVault/vaults`` from
    ``/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v``."""
    parts = resource_id.strip("/").split("/")
    low = [p.lower() for p in parts]
    if "providers" not in low:
        if len(parts) >= 4 and low[2] == "resourcegroups":
            return "Microsoft.Resources/resourceGroups"
        return "Microsoft.Resources/subscriptions"
    i = len(low) - 1 - low[::-1].index("providers")
    rest = parts[i + 1:]
    segs = [rest[0]] + [rest[j] for j in range(1, len(rest), 2)]
    return "/".join(segs)


def subscription_of(resource_id: str) -> str | None:
    parts = resource_id.strip("/").split("/")
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1].lower()
    return None


def host_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or url


T = TypeVar("T")


def guarded(what: str, make: Callable[[], Iterable[T]], problems: list[str] | None) -> list[T]:
    """The records of one object, or none and a line in ``problems`` when its JSON is not
    what the API reference promises: one odd object must not cost the rest of the tenant."""
    try:
        return list(make())
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if problems is None:
            raise
        problems.append(f"{what}: {type(exc).__name__}: {exc}")
        return []
