"""A loopback Entra ID + Microsoft Graph + Azure Resource Manager, over real TLS.

The Azure connector talks plain HTTPS (azure-identity for tokens, httpx for Graph and
ARM), so the way to test it without a tenant is a server that speaks the same wire
format: the OpenID configuration and token endpoints MSAL calls, Graph's ``value`` +
``@odata.nextLink`` collections with ``$select`` / ``$expand`` / ``$filter`` / ``$top``,
ARM's ``value`` + ``nextLink`` with a mandatory ``api-version``, and both services'
error body ``{"error": {"code": ..., "message": ...}}``. The *real* credential classes
(ClientSecretCredential, CertificateCredential) get their tokens from it, which is why it
is TLS: azure-core refuses bearer tokens over plain http. The certificate is generated at
start with ``cryptography`` and written to :attr:`AzureFake.ca_path` for clients to trust.

Which requests fail is said by the :class:`~agentreach_testing.faults.FaultPlan` in
:attr:`AzureFake.faults`, the description the AWS and GCP stand-ins share: ``api`` is
``"graph"``, ``"arm"`` or ``"login"`` (the token and discovery endpoints), ``operation`` the
request path (exact, or a regular expression searched in it), ``scope`` the tenant id or,
for ARM, the subscription id. A fault is rendered as each service renders it: Graph and
ARM ``{"error": {"code", "message"}}`` (Graph's with ``innerError``), ``Retry-After`` on 429
and 503, ARM ``MissingSubscriptionRegistration`` and Graph's missing-licence 403 for an API
that is not enabled, and on the token endpoint the OAuth error body MSAL parses.
:meth:`AzureFake.deny` and :meth:`AzureFake.throttle` are shorthands that add such faults.
Every request is logged in :attr:`AzureFake.requests`.

It lives with the stand-ins (``agentreach_testing``) because ``agentreach demo`` scans an
Azure tenant served by it, offline.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.server
import ipaddress
import json
import re
import ssl
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from .faults import ERROR_KINDS, Fault, FaultPlan
from .httpwire import Cut, end_with_body, reset_connection

__all__ = ["AzureFake", "FakeRequest", "make_self_signed"]

AZURE_APIS = ("graph", "arm", "login")

GRAPH_VERSIONS = ("v1.0", "beta")
LICENCE_CODE = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


def make_self_signed(directory: Path, name: str = "agentreach-azure-fake") -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 / localhost; returns (cert PEM, key PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None


# Graph accepts its resource URI and its app id; ARM its two resource URIs, with or without a
# trailing slash (the allowed list in ARM's "wrong audience" message).
GRAPH_AUDIENCES = frozenset({"https://graph.microsoft.com", "https://graph.microsoft.com/",
                             "00000003-0000-0000-c000-000000000000"})
ARM_AUDIENCES = frozenset({"https://management.azure.com", "https://management.azure.com/",
                           "https://management.core.windows.net", "https://management.core.windows.net/"})


# Key Vault's data plane accepts tokens for its own resource only (AKV10022 otherwise).
VAULT_AUDIENCES = frozenset({"https://vault.azure.net", "https://vault.azure.net/"})
VAULT_API_VERSIONS = frozenset({"7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "2025-07-01"})


def audience_of(scope: str) -> str:
    """The resource a v2 token request's scope names (``https://graph.microsoft.com/.default``)."""
    first = (scope or "").split()[0] if scope else ""
    return first[: -len("/.default")] if first.endswith("/.default") else first


@dataclass
class AzureFake:
    """Serve ``estate`` (see ``agentreach_testing/demo/azure_estate.yaml`` for its shape: Graph and
    ARM objects exactly as Microsoft returns them, plus a few links by id)."""

    estate: Mapping[str, Any]
    page_size: int = 2
    clients: Mapping[str, str] = field(default_factory=dict)  # client_id -> secret; empty: accept any
    # The audiences Graph and ARM accept, as the public cloud's do: a token asked for another
    # resource (say, the fake's own URL) is refused with each service's real 401.
    graph_audiences: frozenset[str] = GRAPH_AUDIENCES
    arm_audiences: frozenset[str] = ARM_AUDIENCES
    requests: list[FakeRequest] = field(default_factory=list)
    tokens_issued: int = 0
    faults: FaultPlan = field(default_factory=FaultPlan)
    _server: http.server.ThreadingHTTPServer | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    ca_path: Path | None = None
    url: str = ""

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def tenant_id(self) -> str:
        return str(self.estate["tenant_id"])

    def start(self) -> str:
        self._tmp = tempfile.TemporaryDirectory(prefix="agentreach-azure-fake-")
        cert, key = make_self_signed(Path(self._tmp.name))
        self.ca_path = cert
        fake = self

        class Handler(_Handler):
            owner = fake

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(target=server.serve_forever, name="azure-fake", daemon=True).start()
        self.url = f"https://127.0.0.1:{server.server_address[1]}"
        return self.url

    def bearer(self, audience: str, client_id: str = "test-client") -> str:
        """A token the fake accepts for ``audience``, as its token endpoint would issue it."""
        raw = f"fake-token:{client_id}:{audience}:{uuid.uuid4()}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "AzureFake":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- failure injection ----------------------------------------------------------------

    def add(self, fault: Fault) -> Fault:
        """Add a fault to :attr:`faults` (its ``api`` checked: graph, arm, login or ``*``)."""
        if fault.api != "*" and fault.api not in AZURE_APIS:
            raise ValueError(f"{fault.api!r} is not an API of the Azure fake ({', '.join(AZURE_APIS)})")
        return self.faults.add(fault)

    def deny(self, path_regex: str, code: str = "Authorization_RequestDenied",
             message: str = "Insufficient privileges to complete the operation.", status: int = 403,
             times: int | None = None) -> Fault:
        """Graph / ARM requests whose path the expression finds answer ``status`` with ``code``."""
        return self.add(Fault("deny", api="*", operation=re.compile(path_regex), times=times, status=status,
                              code=code, message=message))

    def throttle(self, path_regex: str, times: int, retry_after: int = 1, status: int = 429) -> Fault:
        """The next ``times`` such requests answer 429 ``TooManyRequests`` (or 503
        ``ServiceUnavailable``) with ``Retry-After``, then the real answer."""
        return self.add(Fault("throttle" if status == 429 else "unavailable", api="*",
                              operation=re.compile(path_regex), times=times, status=status,
                              retry_after=retry_after))

    def clear_rules(self) -> None:
        self.faults.clear()

    def paths(self, prefix: str = "") -> list[str]:
        return [r.path for r in self.requests if r.path.startswith(prefix)]

    # -- data -----------------------------------------------------------------------------

    @property
    def graph(self) -> Mapping[str, Any]:
        return self.estate.get("graph") or {}

    @property
    def arm(self) -> Mapping[str, Any]:
        return self.estate.get("arm") or {}

    def directory_object(self, object_id: str) -> dict[str, Any] | None:
        """An owner or sponsor as Graph's $expand / navigation returns it (default properties)."""
        for user in self.graph.get("users") or []:
            if user["id"] == object_id:
                out = {"@odata.type": user.get("@odata.type", "#microsoft.graph.user"), "id": user["id"]}
                out.update({k: user.get(k) for k in ("displayName", "userPrincipalName", "mail")})
                return out
        for sp in self.graph.get("servicePrincipals") or []:
            if sp["id"] == object_id:
                return {"@odata.type": sp.get("@odata.type", "#microsoft.graph.servicePrincipal"), "id": sp["id"],
                        "displayName": sp.get("displayName"), "appId": sp.get("appId")}
        for group in self.graph.get("groups") or []:
            if group["id"] == object_id:
                return {"@odata.type": "#microsoft.graph.group", "id": group["id"],
                        "displayName": group.get("displayName")}
        return None


# What $select may name, per Graph type (v1.0 / beta reference); anything else is a 400, as
# Graph answers it, so a connector asking for a property that does not exist fails here too.
_SP_PROPS = {"id", "appId", "displayName", "description", "servicePrincipalType", "appOwnerOrganizationId",
             "accountEnabled", "alternativeNames", "appRoles", "tags", "passwordCredentials", "keyCredentials",
             "servicePrincipalNames", "appDisplayName", "appDescription", "homepage", "notes", "signInAudience",
             "oauth2PermissionScopes", "verifiedPublisher", "deletedDateTime", "disabledByMicrosoftStatus",
             "applicationTemplateId", "appRoleAssignmentRequired", "info", "loginUrl", "logoutUrl", "replyUrls",
             "preferredSingleSignOnMode", "tokenEncryptionKeyId", "notificationEmailAddresses"}
SELECTABLE: dict[str, set[str]] = {
    "application": {"id", "appId", "displayName", "description", "signInAudience", "publisherDomain",
                    "createdDateTime", "tags", "passwordCredentials", "keyCredentials", "identifierUris", "notes",
                    "requiredResourceAccess", "api", "web", "spa", "deletedDateTime", "disabledByMicrosoftStatus",
                    "serviceManagementReference", "uniqueName", "verifiedPublisher"},
    "servicePrincipal": _SP_PROPS,
    "agentIdentity": _SP_PROPS | {"agentIdentityBlueprintId", "createdByAppId", "createdDateTime",
                                  "managerApplications"},
    "agentIdentityBlueprintPrincipal": _SP_PROPS | {"createdByAppId", "createdDateTime"},
    "agentIdentityBlueprint": {"id", "appId", "displayName", "description", "signInAudience", "createdDateTime",
                               "tags", "passwordCredentials", "keyCredentials", "identifierUris",
                               "createdByAppId"},
    "user": {"id", "displayName", "mail", "userPrincipalName", "accountEnabled", "givenName", "surname",
             "jobTitle", "department", "createdDateTime", "employeeId", "userType"},
    "agentUser": {"id", "displayName", "mail", "userPrincipalName", "accountEnabled", "identityParentId",
                  "createdDateTime", "userType"},
    "organization": {"id", "displayName", "verifiedDomains", "tenantType", "createdDateTime", "countryLetterCode"},
    "group": {"id", "displayName", "mail", "mailEnabled", "securityEnabled", "description", "groupTypes",
              "createdDateTime"},
}

# Graph properties that a link list in the estate stands for, and what they expand to.
_LINKS = ("owners", "sponsors")
_HIDDEN = ("owners", "sponsors", "appRoleAssignments", "federatedIdentityCredentials", "members")


class _Handler(http.server.BaseHTTPRequestHandler):
    owner: AzureFake
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # without it every keep-alive request waits ~40 ms

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # -- plumbing -------------------------------------------------------------------------

    def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; odata.metadata=minimal")
        self.send_header("request-id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        truncate, self._truncate = self._truncate, None
        cut = Cut(self.owner.faults.cut(truncate, len(data)), truncate.whole_length) if truncate else None
        end_with_body(self, data, cut)

    _truncate: Fault | None = None  # a truncate fault that applies to the answer being written

    def _fault(self, api: str, path: str, scope: str | tuple[str, ...] | None) -> bool:
        """Apply the fault the plan has for this request, if any; True when that answered it."""
        fault = self.owner.faults.take(api, path, scope)
        self._truncate = None
        if fault is None:
            return False
        if fault.kind == "reset":
            reset_connection(self)
            return True
        if fault.kind == "delay":
            time.sleep(fault.seconds or 0)
        elif fault.kind == "truncate":
            self._truncate = fault
        if fault.kind not in ERROR_KINDS:
            return False
        status, code, message = _fault_error(api, path, fault)
        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
        if api == "login":  # the OAuth error body MSAL parses, not Graph's envelope
            number = re.match(r"AADSTS(\d+)", message)
            self._send(status, {"error": code, "error_description": message,
                                "error_codes": [int(number.group(1))] if number else [],
                                "timestamp": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ"),
                                "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())}, headers)
        else:
            self._error(status, code, message, headers)
        return True

    def _wrong_audience(self, api: str) -> str | None:
        """The service's own 401 text when the bearer token was issued for another resource."""
        raw = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        try:
            parts = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode().split(":")
        except ValueError:
            return "Access token validation failure. Invalid audience."
        aud = ":".join(parts[2:-1]) if len(parts) >= 4 and parts[0] == "fake-token" else ""
        if api == "graph" and aud not in self.owner.graph_audiences:
            return "Access token validation failure. Invalid audience."
        if api == "keyvault" and aud not in VAULT_AUDIENCES:
            return f"AKV10022: Invalid audience. Expected https://vault.azure.net, found: {aud}."
        if api == "arm" and aud not in self.owner.arm_audiences:
            allowed = "','".join(sorted(self.owner.arm_audiences, key=lambda a: (a.rstrip("/"), a)))
            return (f"The access token has been obtained for wrong audience or resource '{aud}'. It should exactly "
                    f"match with one of the allowed audiences '{allowed}'.")
        return None

    def _error(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        body: dict[str, Any] = {"error": {"code": code, "message": message}}
        if self.path.startswith(tuple(f"/{v}/" for v in GRAPH_VERSIONS)):
            body["error"]["innerError"] = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                                           "request-id": str(uuid.uuid4())}
        self._send(status, body, headers)

    def _parsed(self) -> tuple[str, dict[str, str]]:
        parts = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
        return urllib.parse.unquote(parts.path), query

    def _page(self, path: str, query: Mapping[str, str], items: list[Any], link_key: str, max_top: int) -> None:
        """One page of a collection, with an absolute next link that carries the query."""
        size = self.owner.page_size
        if query.get("$top", "").isdigit():
            size = max(1, min(int(query["$top"]), size, max_top))
        start = int(query.get("$skiptoken") or 0)
        body: dict[str, Any] = {"value": items[start:start + size]}
        if start + size < len(items):
            rest = {k: v for k, v in query.items() if k != "$skiptoken"}
            rest["$skiptoken"] = str(start + size)
            host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
            body[link_key] = f"https://{host}{urllib.parse.quote(path)}?{urllib.parse.urlencode(rest)}"
        if link_key == "@odata.nextLink":
            body = {"@odata.context": f"https://graph.microsoft.com/$metadata#{path.split('/', 2)[-1]}", **body}
        self._send(200, body)

    # -- dispatch -------------------------------------------------------------------------

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        path, query = self._parsed()
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode()).items()}
        self.owner.requests.append(FakeRequest("POST", path, query, None))
        m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", path)
        if self._fault("login", path, m.group(1) if m else None):
            return None
        if not m:
            return self._error(404, "NotFound", f"no route for POST {path}")
        clients = self.owner.clients
        client_id = form.get("client_id", "")
        if clients and "client_secret" in form and clients.get(client_id) != form["client_secret"]:
            body = {"error": "invalid_client", "error_codes": [7000215],
                    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
                                         "sent in the request is the client secret value, not the client secret ID."}
            return self._send(401, body)
        if clients and client_id not in clients:
            return self._send(400, {"error": "unauthorized_client", "error_codes": [700016],
                                    "error_description": f"AADSTS700016: Application with identifier '{client_id}' "
                                                         "was not found in the directory."})
        self.owner.tokens_issued += 1
        aud = audience_of(form.get("scope", ""))
        token = base64.urlsafe_b64encode(f"fake-token:{client_id}:{aud}:{uuid.uuid4()}".encode()).decode().rstrip("=")
        self._send(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        path, query = self._parsed()
        self.owner.requests.append(FakeRequest("GET", path, query, self.headers.get("Authorization")))
        host = f"https://{self.headers.get('Host')}"
        m = re.fullmatch(r"/([^/]+)/v2\.0/\.well-known/openid-configuration", path)
        if (m or path == "/common/discovery/instance") and self._fault("login", path, m.group(1) if m else None):
            return None
        if m:
            tenant = m.group(1)
            return self._send(200, {
                "token_endpoint": f"{host}/{tenant}/oauth2/v2.0/token",
                "authorization_endpoint": f"{host}/{tenant}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{host}/{tenant}/oauth2/v2.0/devicecode",
                "issuer": f"{host}/{self.owner.tenant_id}/v2.0",
                "jwks_uri": f"{host}/{tenant}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                          "client_secret_basic"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "tenant_region_scope": "EU",
            })
        if path == "/common/discovery/instance":
            return self._send(200, {"tenant_discovery_endpoint":
                                    f"{host}/{self.owner.tenant_id}/v2.0/.well-known/openid-configuration",
                                    "api-version": "1.1", "metadata": []})
        if not (self.headers.get("Authorization") or "").startswith("Bearer "):
            return self._error(401, "InvalidAuthenticationToken", "Access token is empty.")
        first = path.split("/")[1] if "/" in path else ""
        api = "graph" if first in GRAPH_VERSIONS else "arm" if first in ("subscriptions", "providers") else \
            "keyvault" if first == "keyvault" else ""
        sub = re.match(r"/subscriptions/([^/]+)", path)
        scope = (sub.group(1), self.owner.tenant_id) if sub else self.owner.tenant_id
        if self._fault(api, path, scope):
            return None
        wrong = self._wrong_audience(api)
        if wrong:
            return self._error(401, "Unauthorized" if api == "keyvault" else "InvalidAuthenticationToken", wrong)
        if api == "keyvault":
            return self._vault(path, query)
        if first in GRAPH_VERSIONS:
            return self._graph(path, query)
        if first in ("subscriptions", "providers"):
            return self._arm(path, query)
        return self._error(404, "NotFound", f"no route for GET {path}")

    # -- Graph ----------------------------------------------------------------------------

    def _graph(self, path: str, query: Mapping[str, str]) -> None:
        fake = self.owner
        g = fake.graph
        version, rest = path.split("/", 2)[1], "/" + path.split("/", 2)[2]
        routes: list[tuple[str, str | None, Any]] = [
            (r"/organization", "organization", lambda: [fake.estate.get("organization") or {"id": fake.tenant_id}]),
            (r"/applications", "application", lambda: g.get("applications") or []),
            (r"/applications/microsoft\.graph\.agentIdentityBlueprint", "agentIdentityBlueprint",
             lambda: _of_type(g.get("applications"), "agentIdentityBlueprint")),
            (r"/servicePrincipals", "servicePrincipal", lambda: g.get("servicePrincipals") or []),
            (r"/servicePrincipals/microsoft\.graph\.agentIdentity", "agentIdentity",
             lambda: _of_type(g.get("servicePrincipals"), "agentIdentity")),
            (r"/servicePrincipals/microsoft\.graph\.agentIdentityBlueprintPrincipal", "agentIdentityBlueprintPrincipal",
             lambda: _of_type(g.get("servicePrincipals"), "agentIdentityBlueprintPrincipal")),
            (r"/users", "user", lambda: _users_filter(g.get("users") or [], query.get("$filter"))),
            (r"/users/microsoft\.graph\.agentUser", "agentUser", lambda: _of_type(g.get("users"), "agentUser")),
            (r"/groups", "group", lambda: _users_filter(g.get("groups") or [], query.get("$filter"))),
            (r"/roleManagement/directory/roleAssignments", None, lambda: g.get("directoryRoleAssignments") or []),
        ]
        beta_only = [
            (r"/reports/servicePrincipalSignInActivities", None, lambda: g.get("servicePrincipalSignInActivities")),
            (r"/reports/appCredentialSignInActivities", None, lambda: g.get("appCredentialSignInActivities")),
            (r"/auditLogs/signIns", None, lambda: _sign_ins(g.get("signIns") or [], query.get("$filter"))),
        ]
        for pattern, type_name, get in routes + (beta_only if version == "beta" else []):
            if re.fullmatch(pattern, rest):
                unknown = sorted({s.strip() for s in (query.get("$select") or "").split(",") if s.strip()}
                                 - SELECTABLE.get(type_name or "", set())) if type_name else []
                if unknown:
                    return self._error(400, "BadRequest", f"Could not find a property named '{unknown[0]}' on type "
                                                          f"'microsoft.graph.{type_name}'.")
                items = get()
                if items is None:  # the estate says this tenant has no licence for the report
                    return self._error(403, LICENCE_CODE, "Tenant is not a B2C tenant and doesn't have premium license")
                items = [self._shape(dict(i), query) for i in items]
                return self._page(path, query, items, "@odata.nextLink", 999)
        m = re.fullmatch(r"/(applications|servicePrincipals|groups)/([^/]+)/(owners|federatedIdentityCredentials|"
                         r"appRoleAssignments|appRoleAssignedTo|sponsors|transitiveMembers)", rest)
        if m:
            coll, oid, nav = m.groups()
            obj = next((o for o in g.get(coll) or [] if o["id"] == oid), None)
            if obj is None:
                return self._error(404, "Request_ResourceNotFound",
                                   f"Resource '{oid}' does not exist or one of its queried reference-property "
                                   "objects are not present.")
            return self._page(path, query, self._navigation(obj, nav), "@odata.nextLink", 999)
        return self._error(400, "BadRequest", f"Resource not found for the segment '{rest.strip('/').split('/')[0]}'.")

    def _navigation(self, obj: Mapping[str, Any], nav: str) -> Any:
        if nav == "transitiveMembers":  # a group's members, and the members of the groups in it
            seen: dict[str, dict[str, Any]] = {}
            todo = list(obj.get("members") or [])
            while todo:
                oid = todo.pop(0)
                if oid in seen:
                    continue
                member = self.owner.directory_object(oid)
                if member is None:
                    continue
                seen[oid] = member
                if member["@odata.type"].endswith(".group"):
                    nested = next((gr for gr in self.owner.graph.get("groups") or [] if gr["id"] == oid), {})
                    todo += list(nested.get("members") or [])
            return list(seen.values())
        if nav == "appRoleAssignedTo":  # the API's side: every assignment whose resource it is
            return [dict(a) for sp in self.owner.graph.get("servicePrincipals") or []
                    for a in sp.get("appRoleAssignments") or [] if str(a.get("resourceId")) == str(obj["id"])]
        if nav in _LINKS:
            return [d for d in (self.owner.directory_object(i) for i in obj.get(nav) or []) if d]
        value = obj.get(nav)
        return dict(value) if isinstance(value, Mapping) else list(value or [])

    def _shape(self, item: dict[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
        """Apply $expand and $select the way Graph does: only the selected properties (and
        the type annotation of a derived type), links expanded to directory objects."""
        expanded = {}
        for nav in [n.strip().split("(")[0] for n in (query.get("$expand") or "").split(",") if n.strip()]:
            expanded[nav] = self._navigation(item, nav)
        select = [s.strip() for s in (query.get("$select") or "").split(",") if s.strip()]
        if select:
            out = {k: item.get(k) for k in select}
            if "@odata.type" in item:
                out["@odata.type"] = item["@odata.type"]
        else:
            out = {k: v for k, v in item.items() if k not in _HIDDEN}
        out.update(expanded)
        return out

    # -- ARM ------------------------------------------------------------------------------

    def _arm(self, path: str, query: Mapping[str, str]) -> None:
        if not query.get("api-version"):
            return self._error(400, "MissingApiVersionParameter",
                               "The api-version query parameter (?api-version=) is required for all requests.")
        arm = self.owner.arm
        if path == "/subscriptions":
            subs = [{k: v for k, v in s.items() if k != "resources"} for s in arm.get("subscriptions") or []]
            return self._page(path, query, subs, "nextLink", 1000)
        m = re.fullmatch(r"/subscriptions/([^/]+)(/.*)", path)
        sub = next((s for s in arm.get("subscriptions") or [] if m and s["subscriptionId"] == m.group(1)), None)
        if m is None or sub is None:
            return self._error(404, "SubscriptionNotFound", f"The subscription '{path.split('/')[2:3]}' could not "
                                                            "be found.")
        data = sub.get("resources") or {}
        routes = {
            "/providers/microsoft.authorization/roleassignments": "roleAssignments",
            "/providers/microsoft.authorization/roledefinitions": "roleDefinitions",
            "/providers/microsoft.authorization/denyassignments": "denyAssignments",
            "/resourcegroups": "resourceGroups",
            "/resources": "resources",
            "/providers/microsoft.managedidentity/userassignedidentities": "userAssignedIdentities",
            "/providers/microsoft.cognitiveservices/accounts": "cognitiveAccounts",
            "/providers/microsoft.keyvault/vaults": "vaults",
            "/providers/microsoft.storage/storageaccounts": "storageAccounts",
            "/providers/microsoft.app/containerapps": "containerApps",
        }
        key = routes.get(m.group(2).lower())
        fics = re.fullmatch(r"(/resourcegroups/[^/]+/providers/microsoft\.managedidentity/userassignedidentities/[^/]+)"
                            r"/federatedidentitycredentials", m.group(2).lower())
        if key is None and fics is not None:
            # A user-assigned identity's federated identity credentials, a child collection
            # (Federated Identity Credentials - List): 404 ResourceNotFound for an unknown identity.
            identity = f"/subscriptions/{m.group(1)}{fics.group(1)}".lower()
            if not any(str(i.get("id") or "").lower() == identity for i in data.get("userAssignedIdentities") or []):
                return self._error(404, "ResourceNotFound",
                                   f"The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/"
                                   f"{identity.rsplit('/', 1)[-1]}' under resource group "
                                   f"'{identity.split('/')[4]}' was not found.")
            items = [f for f in data.get("federatedIdentityCredentials") or []
                     if str(f.get("id") or "").lower().startswith(identity + "/federatedidentitycredentials/")]
            return self._page(path, query, items, "nextLink", 1000)
        if key is None:
            # An AI Services account's projects (Azure AI Foundry), a child collection ARM lists
            # per account: GET {account id}/projects.
            child = re.fullmatch(r"(/resourcegroups/[^/]+/providers/microsoft\.cognitiveservices/accounts/[^/]+)"
                                 r"/projects", m.group(2).lower())
            if child is None:
                return self._error(404, "InvalidResourceType", f"The resource type could not be found in {path}.")
            account = f"/subscriptions/{m.group(1)}{child.group(1)}".lower()
            if not any(str(a.get("id") or "").lower() == account for a in data.get("cognitiveAccounts") or []):
                return self._error(404, "ResourceNotFound", f"The Resource '{account}' was not found.")
            items = [p for p in data.get("cognitiveProjects") or []
                     if str(p.get("id") or "").lower().startswith(account + "/projects/")]
            return self._page(path, query, items, "nextLink", 1000)
        items = list(data.get(key) or [])
        if key == "vaults":
            items = [self._arm_vault(v) for v in items]
        return self._page(path, query, items, "nextLink", 1000)

    # -- Key Vault data plane ---------------------------------------------------------------
    # A vault's data plane lives on its own host in Azure (https://{vault}.vault.azure.net/);
    # here it is served under /keyvault/{vault}/ on the fake's host, and the vaultUri ARM
    # returns for a vault the estate gives ``secrets`` says so, as Azure's names its host. An
    # estate secret: {name, value, enabled (true), managed (false), denied (false: the caller
    # holds secrets/get; true: ForbiddenByRbac), contentType}.

    def _arm_vault(self, vault: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in vault.items() if k != "secrets"}
        if "secrets" in vault:
            host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
            out["properties"] = {**(vault.get("properties") or {}),
                                 "vaultUri": f"https://{host}/keyvault/{vault['name']}/"}
        return out

    def _vaults(self) -> dict[str, Mapping[str, Any]]:
        return {str(v.get("name")): v for sub in self.owner.arm.get("subscriptions") or []
                for v in (sub.get("resources") or {}).get("vaults") or [] if "secrets" in v}

    def _vault(self, path: str, query: Mapping[str, str]) -> None:
        """GET {vault}/secrets and GET {vault}/secrets/{name}[/{version}] as Key Vault answers
        them (https://learn.microsoft.com/rest/api/keyvault/secrets/get-secrets/get-secrets,
        .../get-secret/get-secret, api-version 7.4): a list of ids and attributes, never a
        value; the value of the current version; Key Vault's error envelope."""
        if query.get("api-version") not in VAULT_API_VERSIONS:
            return self._error(400, "BadParameter", "The specified version (" + query.get("api-version", "") +
                               ") is not recognized. Consider using the latest supported version (7.4).")
        m = re.fullmatch(r"/keyvault/([^/]+)/secrets(?:/([^/]+)(?:/([^/]+))?)?/?", path)
        vault = self._vaults().get(m.group(1)) if m else None
        if m is None or vault is None:
            return self._error(404, "NotFound", f"no route for GET {path}")
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        base = f"https://{host}/keyvault/{m.group(1)}"
        secrets = list(vault.get("secrets") or [])

        def attributes(sec: Mapping[str, Any]) -> dict[str, Any]:
            return {"enabled": bool(sec.get("enabled", True)), "created": 1735689600, "updated": 1735689600,
                    "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}

        if m.group(2) is None:
            items = []
            for sec in secrets:
                item: dict[str, Any] = {"id": f"{base}/secrets/{sec['name']}", "attributes": attributes(sec)}
                if sec.get("contentType"):
                    item["contentType"] = sec["contentType"]
                if sec.get("managed"):
                    item["managed"] = True
                items.append(item)
            return self._page(path, query, items, "nextLink", 25)
        sec = next((x for x in secrets if x["name"] == m.group(2)), None)
        if sec is None:
            return self._send(404, {"error": {"code": "SecretNotFound", "message": f"A secret with (name/id) "
                                              f"{m.group(2)} was not found in this key vault. If you recently "
                                              "deleted this secret you may be able to recover it using the "
                                              "correct recovery command."}})
        if sec.get("denied"):
            return self._send(403, {"error": {
                "code": "Forbidden", "innererror": {"code": "ForbiddenByRbac"},
                "message": "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny "
                           "assignments or role definitions were changed recently, please observe propagation "
                           f"time.\r\nVault: {m.group(1)};location=westeurope\r\nAction: "
                           "'Microsoft.KeyVault/vaults/secrets/getSecret/action'"}})
        if not sec.get("enabled", True):
            return self._send(403, {"error": {"code": "Forbidden", "innererror": {"code": "SecretDisabled"},
                                              "message": "Operation get is not allowed on a disabled secret."}})
        version = hashlib.sha256(f"{m.group(1)}/{sec['name']}".encode()).hexdigest()[:32]
        body: dict[str, Any] = {"value": sec.get("value", ""), "id": f"{base}/secrets/{sec['name']}/{version}",
                                "attributes": attributes(sec)}
        if sec.get("contentType"):
            body["contentType"] = sec["contentType"]
        return self._send(200, body)


# What each service says for each error kind of fault: (status, code, message) for Graph,
# ARM and the token endpoint (whose code is the OAuth "error" and message the AADSTS text).
_FAULT_ERRORS: dict[str, dict[str, tuple[int, str, str]]] = {
    "graph": {
        "deny": (403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
        "throttle": (429, "TooManyRequests", "Too many requests, retry later."),
        "unavailable": (503, "ServiceUnavailable", "Service unavailable."),
        "error": (500, "generalException", "An internal server error occurred."),
        "disabled": (403, LICENCE_CODE, "Tenant is not a B2C tenant and doesn't have premium license"),
    },
    "arm": {
        "deny": (403, "AuthorizationFailed", "The client does not have authorization to perform this action."),
        "throttle": (429, "TooManyRequests", "Too many requests, retry later."),
        "unavailable": (503, "ServiceUnavailable", "Service unavailable."),
        "error": (500, "InternalServerError", "Encountered internal server error."),
        "disabled": (409, "MissingSubscriptionRegistration", "The subscription is not registered to use namespace "
                                                             "'{namespace}'."),
    },
    "login": {
        "deny": (401, "invalid_client", "AADSTS7000215: Invalid client secret provided."),
        "throttle": (429, "temporarily_unavailable", "AADSTS90033: A transient error has occurred. Please try again."),
        "unavailable": (503, "temporarily_unavailable",
                        "AADSTS90033: A transient error has occurred. Please try again."),
        "error": (500, "server_error", "AADSTS50000: There was an error issuing a token."),
        "disabled": (400, "unauthorized_client", "AADSTS7000112: Application is disabled."),
    },
}


def _fault_error(api: str, path: str, fault: Fault) -> tuple[int, str, str]:
    """(status, code, message) of an error-kind fault as ``api`` says it; the fault's own win."""
    status, code, message = _FAULT_ERRORS.get(api, _FAULT_ERRORS["arm"])[fault.kind]
    namespace = re.search(r"/providers/([^/]+)", path)
    message = message.format(namespace=namespace.group(1) if namespace else "Microsoft.Resources")
    return fault.status or status, fault.code or code, fault.message or message


def _of_type(items: Any, type_name: str) -> list[Any]:
    return [i for i in items or [] if i.get("@odata.type") == f"#microsoft.graph.{type_name}"]


_SIGN_IN_TIME = re.compile(r"createdDateTime\s+(ge|gt|le|lt)\s+(\S+?Z)\b")
_SIGN_IN_TYPE = re.compile(r"signInEventTypes/any\(\s*(\w+)\s*:\s*\1\s+eq\s+'(\w+)'\s*\)")


def _sign_ins(items: list[Mapping[str, Any]], flt: str | None) -> list[Any]:
    """``GET /beta/auditLogs/signIns`` as Graph answers it: ``$filter`` on ``createdDateTime``
    (``ge``/``gt``/``le``/``lt`` an ISO time) and on ``signInEventTypes/any(t: t eq 'X')`` (or'ed
    when several), newest first. As Graph documents for the beta API, a request that filters on
    no event type gets interactive user sign-ins only: service-principal and managed-identity
    sign-ins must be asked for by type."""
    flt = flt or ""
    types = {m.group(2) for m in _SIGN_IN_TYPE.finditer(flt)} or {"interactiveUser"}
    bounds = [(op, dt.datetime.fromisoformat(value.replace("Z", "+00:00"))) for op, value in _SIGN_IN_TIME.findall(flt)]
    out = []
    for item in items:
        if not types & set(item.get("signInEventTypes") or ["interactiveUser"]):
            continue
        when = dt.datetime.fromisoformat(str(item["createdDateTime"]).replace("Z", "+00:00"))
        if all({"ge": when >= b, "gt": when > b, "le": when <= b, "lt": when < b}[op] for op, b in bounds):
            out.append(item)
    return sorted(out, key=lambda i: str(i["createdDateTime"]), reverse=True)


def _users_filter(users: list[Mapping[str, Any]], flt: str | None) -> list[Any]:
    """``id in ('a','b')`` (what the connector asks), or no filter at all."""
    if not flt:
        return list(users)
    ids = set(re.findall(r"'([^']+)'", flt))
    return [u for u in users if u["id"] in ids]


def iter_secret_texts(estate: Mapping[str, Any]) -> Iterator[str]:
    """Every ``secretText`` the estate carries (the canary tests look for them in outputs)."""
    for coll in ("applications", "servicePrincipals"):
        for obj in (estate.get("graph") or {}).get(coll) or []:
            for cred in obj.get("passwordCredentials") or []:
                if cred.get("secretText"):
                    yield str(cred["secretText"])
