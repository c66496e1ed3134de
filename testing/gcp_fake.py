"""Local fakes of the Google Cloud APIs the GCP connector reads, speaking their real wire formats.

Two servers, because Google serves the IAM admin API over gRPC only in the installed
client (google-cloud-iam's ``iam_admin_v1`` has no REST transport):

* :class:`IamGrpcFake`: a gRPC server for ``google.iam.admin.v1.IAM`` built from grpcio's
  generic handlers and the client's own proto-plus types, so the real ``IAMClient``
  talks to it over a real channel (ListServiceAccounts paged, ListServiceAccountKeys,
  GetRole, GetIamPolicy on service accounts), with PERMISSION_DENIED per project.
* :class:`RestFake`: one stdlib ``ThreadingHTTPServer`` for every REST API (Resource
  Manager v3, IAM v1 workload identity pools, IAM v2 deny policies, Policy Analyzer
  activities, API Keys v2, Vertex AI reasoning engines, Cloud Storage, Secret Manager,
  BigQuery), paging with ``nextPageToken`` and Google's error body
  ``{"error": {"code", "message", "status"}}`` (a ``google.rpc.Status``).

Which requests fail is said by a :class:`~agentreach_testing.faults.FaultPlan` (the
description the AWS and Entra stand-ins share): ``api`` is the fake's API name (``"iam"`` is
the gRPC API, see :data:`GCP_APIS`), ``operation`` the method as the connector names it
(``"keys.list"``, ``"ListServiceAccounts"``), ``scope`` the project id. Over REST a fault is a
``google.rpc.Status`` body (an API not enabled carries the ``ErrorInfo`` reason
``SERVICE_DISABLED``), over gRPC a status code (with the same details); ``truncate`` cuts the
JSON body or the serialized protobuf, ``reset`` drops the connection (the gRPC server sits
behind a :class:`~agentreach_testing.tcprelay.TcpRelay` so that it can). :class:`Faults` is
that plan with the shorthand the tests have long written (``denied``, ``throttle``, ...).

The estate is plain data in Google's own JSON field names (see ``demo/gcp_estate.yaml``);
dates may be written ``now-200d`` and are resolved against the ``now`` given. Every
secret-bearing field a real API could return (``privateKeyData``, ``keyString``) carries
:data:`CANARY`, so a test can prove that the connector never keeps it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator, MutableMapping
from concurrent import futures
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping

from .faults import ERROR_KINDS, Fault, FaultKind, FaultPlan
from .httpwire import Cut, end_with_body, reset_connection
from .tcprelay import TcpRelay

CANARY = "CANARY-GCP-PRIVATE-KEY-DATA-do-not-store-7f3a9c"
PAGE_SIZE = 2  # small, so that every list in a test crosses pages

# Permissions of the predefined roles the estates use: real role names, real permission
# names, trimmed to what matters for reach (the real lists are longer).
ROLE_PERMISSIONS: dict[str, list[str]] = {
    "roles/owner": ["resourcemanager.projects.setIamPolicy", "resourcemanager.projects.get",
                    "iam.serviceAccounts.actAs", "iam.serviceAccountKeys.create", "storage.objects.get",
                    "storage.objects.create", "secretmanager.versions.access", "bigquery.tables.getData",
                    "bigquery.tables.updateData"],
    "roles/editor": ["resourcemanager.projects.get", "iam.serviceAccounts.actAs", "storage.objects.get",
                     "storage.objects.create", "bigquery.tables.getData", "bigquery.tables.updateData"],
    "roles/viewer": ["resourcemanager.projects.get", "storage.buckets.list", "bigquery.datasets.get"],
    "roles/bigquery.dataEditor": ["bigquery.datasets.get", "bigquery.tables.create", "bigquery.tables.get",
                                  "bigquery.tables.getData", "bigquery.tables.list", "bigquery.tables.update",
                                  "bigquery.tables.updateData", "bigquery.tables.delete"],
    "roles/bigquery.dataViewer": ["bigquery.datasets.get", "bigquery.tables.get", "bigquery.tables.getData",
                                  "bigquery.tables.list"],
    "roles/bigquery.dataOwner": ["bigquery.datasets.get", "bigquery.datasets.setIamPolicy",
                                 "bigquery.tables.getData", "bigquery.tables.updateData"],
    "roles/storage.objectViewer": ["storage.objects.get", "storage.objects.list"],
    "roles/storage.objectAdmin": ["storage.objects.create", "storage.objects.delete", "storage.objects.get",
                                  "storage.objects.list", "storage.objects.update"],
    "roles/secretmanager.secretAccessor": ["secretmanager.versions.access"],
    "roles/aiplatform.user": ["aiplatform.endpoints.predict", "aiplatform.reasoningEngines.query"],
    "roles/aiplatform.reasoningEngineServiceAgent": ["aiplatform.reasoningEngines.get", "logging.logEntries.create"],
    "roles/iam.serviceAccountTokenCreator": ["iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.signBlob",
                                             "iam.serviceAccounts.signJwt", "iam.serviceAccounts.implicitDelegation",
                                             "iam.serviceAccounts.getOpenIdToken"],
    "roles/iam.serviceAccountUser": ["iam.serviceAccounts.actAs", "iam.serviceAccounts.get",
                                     "iam.serviceAccounts.list"],
    "roles/iam.serviceAccountKeyAdmin": ["iam.serviceAccountKeys.create", "iam.serviceAccountKeys.delete",
                                         "iam.serviceAccountKeys.get", "iam.serviceAccountKeys.list"],
    "roles/iam.workloadIdentityUser": ["iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.getOpenIdToken",
                                       "iam.serviceAccounts.get"],
    "roles/logging.logWriter": ["logging.logEntries.create"],
}

_RELATIVE = re.compile(r"^now(?:([+-])(\d+)([dhm]))?$")


def rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_dates(value: Any, now: dt.datetime) -> Any:
    """``now``, ``now-200d``, ``now+30d``, ``now-5h`` anywhere in the estate -> RFC 3339."""
    if isinstance(value, str):
        m = _RELATIVE.match(value)
        if not m:
            return value
        delta = dt.timedelta(0)
        if m.group(1):
            unit = {"d": "days", "h": "hours", "m": "minutes"}[m.group(3)]
            delta = dt.timedelta(**{unit: int(m.group(2))}) * (-1 if m.group(1) == "-" else 1)
        return rfc3339(now + delta)
    if isinstance(value, Mapping):
        return {k: resolve_dates(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_dates(v, now) for v in value]
    return value


# -- the estate ------------------------------------------------------------------------

#: The APIs the fakes serve, as faults name them ("iam" is the gRPC IAM admin API).
GCP_APIS = ("iam", "resourcemanager", "iam_v2", "iam_rest", "policyanalyzer", "apikeys", "aiplatform", "storage",
            "secretmanager", "bigquery", "cloudidentity", "run", "logging")
# The service name Google puts in a SERVICE_DISABLED error, per fake API.
_SERVICE = {"iam": "iam", "iam_v2": "iam", "iam_rest": "iam", "resourcemanager": "cloudresourcemanager"}
# google.rpc.Code names and the HTTP status Google maps each to.
HTTP_OF_CODE = {"OK": 200, "CANCELLED": 499, "UNKNOWN": 500, "INVALID_ARGUMENT": 400, "DEADLINE_EXCEEDED": 504,
                "NOT_FOUND": 404, "ALREADY_EXISTS": 409, "PERMISSION_DENIED": 403, "RESOURCE_EXHAUSTED": 429,
                "FAILED_PRECONDITION": 400, "ABORTED": 409, "OUT_OF_RANGE": 400, "UNIMPLEMENTED": 501,
                "INTERNAL": 500, "UNAVAILABLE": 503, "DATA_LOSS": 500, "UNAUTHENTICATED": 401}
# (code, message) for each error kind of fault; {permission} and {project} are filled in.
_FAULT_ERRORS: dict[str, tuple[str, str]] = {
    "deny": ("PERMISSION_DENIED", "Permission '{permission}' denied on resource '{project}' (or it may not exist)."),
    "throttle": ("RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Read requests'."),
    "unavailable": ("UNAVAILABLE", "The service is currently unavailable."),
    "error": ("INTERNAL", "Internal error encountered."),
    "disabled": ("PERMISSION_DENIED", "{service} API has not been used in project {project} before or it is "
                                      "disabled."),
}


@dataclass(frozen=True)
class FaultError:
    """An error-kind fault as Google states it: HTTP status, ``google.rpc.Code`` name, message,
    and the ``google.rpc.ErrorInfo`` details an API not enabled carries."""

    http: int
    code: str
    message: str
    details: tuple[dict[str, Any], ...] = ()


def fault_error(fault: Fault, api: str, project: str | None, permission: str) -> FaultError:
    """What the fakes answer for an error-kind fault; the fault's own status/code/message win."""
    code, message = _FAULT_ERRORS[fault.kind]
    if fault.kind == "error" and fault.code is None and fault.status is not None:
        code = next((c for c, h in HTTP_OF_CODE.items() if h == fault.status), "UNKNOWN")
    code = fault.code or code
    if code not in HTTP_OF_CODE:
        raise ValueError(f"{code!r} is not a google.rpc.Code name")
    service = f"{_SERVICE.get(api, api)}.googleapis.com"
    text = fault.message or message.format(permission=permission, project=project or "", service=service)
    details: tuple[dict[str, Any], ...] = ()
    if fault.kind == "disabled":
        details = ({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED",
                    "domain": "googleapis.com", "metadata": {"service": service, "consumer": f"projects/{project}"}},)
    return FaultError(fault.status or HTTP_OF_CODE[code], code, text, details)


class Faults(FaultPlan):
    """The GCP fakes' fault plan, with the shorthand their tests have always used.

    ``denied`` maps a project id to the API names that answer 403 for it (``"*"`` = all,
    ``"iam"`` is the gRPC API); ``service_disabled`` the same for APIs not enabled there;
    ``throttle`` maps an API name to how many of its next calls answer 429 before the real
    answer; ``unavailable`` the same with 503. Each is a live view of the plan's faults:
    ``faults.throttle["apikeys"] = 2`` adds a fault, ``faults.throttle["apikeys"]`` says how
    many of its requests are still to fail.
    """

    def __init__(self, denied: Mapping[str, set[str]] | None = None,
                 service_disabled: Mapping[str, set[str]] | None = None,
                 throttle: Mapping[str, int] | None = None, unavailable: Mapping[str, int] | None = None,
                 *, faults: tuple[Fault, ...] = (), seed: int = 0) -> None:
        super().__init__(faults, seed=seed)
        self.throttle.update(throttle or {})
        self.unavailable.update(unavailable or {})
        self.service_disabled.update(service_disabled or {})
        self.denied.update(denied or {})

    @property
    def denied(self) -> MutableMapping[str, frozenset[str]]:
        return _View(self, "deny", by_project=True)

    @property
    def service_disabled(self) -> MutableMapping[str, frozenset[str]]:
        return _View(self, "disabled", by_project=True)

    @property
    def throttle(self) -> MutableMapping[str, int]:
        return _View(self, "throttle", by_project=False)

    @property
    def unavailable(self) -> MutableMapping[str, int]:
        return _View(self, "unavailable", by_project=False)


class _View(MutableMapping[str, Any]):
    """A live view of the plan's faults of one kind on whole APIs: with ``by_project``,
    project -> the APIs that always fail there (frozen: assign a new set to change it);
    otherwise API -> how many of its requests are still to fail."""

    def __init__(self, plan: FaultPlan, kind: FaultKind, *, by_project: bool) -> None:
        self.plan, self.kind, self.by_project = plan, kind, by_project

    def _key(self, fault: Fault) -> str:
        return str(fault.scope if self.by_project else fault.api)

    def _of(self, key: str | None = None) -> list[Fault]:
        return [f for f in self.plan.faults if f.kind == self.kind and f.operation == "*"
                and (f.scope is not None and f.times is None if self.by_project else f.scope is None and
                     f.times is not None) and (key is None or self._key(f) == key)]

    def __getitem__(self, key: str) -> Any:
        found = self._of(key)
        if not found:
            raise KeyError(key)
        if self.by_project:
            return frozenset(f.api for f in found)
        return sum(max((f.times or 0) - f.hits, 0) for f in found)

    def __setitem__(self, key: str, value: Any) -> None:
        for f in self._of(key):
            self.plan.remove(f)
        if self.by_project:
            for api in sorted(value):
                self.plan.add(Fault(self.kind, api=api, scope=key))
        else:  # counted faults go first: a throttled call is throttled before it is denied
            self.plan.add(Fault(self.kind, api=key, times=int(value)), first=True)

    def __delitem__(self, key: str) -> None:
        found = self._of(key)
        if not found:
            raise KeyError(key)
        for f in found:
            self.plan.remove(f)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(self._key(f) for f in self._of()))

    def __len__(self) -> int:
        return len(dict.fromkeys(self._key(f) for f in self._of()))


class Estate:
    """The estate as the fakes serve it, with indexes the routes need."""

    def __init__(self, data: Mapping[str, Any], now: dt.datetime) -> None:
        self.data = resolve_dates(dict(data), now)
        self.now = now
        self.org = self.data.get("organization") or None
        self.folders = {f"folders/{f['id']}": f for f in self.data.get("folders") or []}
        self.projects = {p["projectId"]: p for p in self.data.get("projects") or []}
        self.by_number = {str(p["number"]): p for p in self.projects.values()}
        self.roles = {**ROLE_PERMISSIONS, **(self.data.get("roles") or {})}
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()

    def count(self, what: str) -> None:
        with self.lock:
            self.calls[what] = self.calls.get(what, 0) + 1

    def project(self, ref: str) -> dict[str, Any] | None:
        return self.projects.get(ref) or self.by_number.get(ref)

    def service_accounts(self, project: dict[str, Any]) -> list[dict[str, Any]]:
        return list(project.get("serviceAccounts") or [])

    def find_sa(self, email: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for p in self.projects.values():
            for sa in p.get("serviceAccounts") or []:
                if sa["email"] == email or sa.get("uniqueId") == email:
                    return p, sa
        return None


def policy_json(policy: Mapping[str, Any] | None) -> dict[str, Any]:
    """An IAM policy as getIamPolicy returns it at version 3."""
    out: dict[str, Any] = {"version": 3, "etag": "BwYfake="}
    if policy and policy.get("bindings"):
        out["bindings"] = [dict(b) for b in policy["bindings"]]
    return out


def page(items: list[Any], key: str, token: str | None, size: Any = None) -> dict[str, Any]:
    """One page; the server may return fewer than asked (as Google's does)."""
    n = min(int(size or PAGE_SIZE), PAGE_SIZE)
    start = int(token or 0)
    body: dict[str, Any] = {key: items[start:start + n]} if items[start:start + n] else {}
    if start + n < len(items):
        body["nextPageToken"] = str(start + n)
    return body


# -- gRPC: google.iam.admin.v1.IAM -------------------------------------------------------

class IamGrpcFake:
    """The IAM admin API over gRPC (insecure, loopback), from the client's own types.

    Clients connect through a :class:`TcpRelay` (:attr:`target`), so that a ``reset`` fault
    can drop the connection a call came in on; the server itself listens on :attr:`port`.
    """

    PERMISSIONS = {"ListServiceAccounts": "iam.serviceAccounts.list", "ListServiceAccountKeys":
                   "iam.serviceAccountKeys.list", "GetRole": "iam.roles.get",
                   "GetIamPolicy": "iam.serviceAccounts.getIamPolicy"}

    def __init__(self, estate: Estate, faults: FaultPlan) -> None:
        self.estate = estate
        self.faults = faults
        self.server: Any = None
        self.port = 0
        self.relay: TcpRelay | None = None
        self._local = threading.local()  # the truncate fault of the call this thread serves

    def start(self) -> "IamGrpcFake":
        import grpc
        from google.cloud.iam_admin_v1 import types as T
        from google.iam.v1 import iam_policy_pb2, policy_pb2

        def unary(fn: Callable[[Any, Any], Any], req: Any, resp: Any, proto_plus: bool = True) -> Any:
            serialize = resp.serialize if proto_plus else resp.SerializeToString

            def behaviour(request: Any, ctx: Any) -> bytes:
                # Serialized here, not by grpc, so that a truncate fault can cut the bytes.
                self._local.truncate = None
                data = serialize(fn(request, ctx))
                truncate = self._local.truncate
                return data[:self.faults.cut(truncate, len(data))] if truncate is not None else data

            return grpc.unary_unary_rpc_method_handler(
                behaviour, request_deserializer=req.deserialize if proto_plus else req.FromString,
                response_serializer=lambda data: data)

        handlers = {
            "ListServiceAccounts": unary(self._list_sas, T.ListServiceAccountsRequest, T.ListServiceAccountsResponse),
            "ListServiceAccountKeys": unary(self._list_keys, T.ListServiceAccountKeysRequest,
                                            T.ListServiceAccountKeysResponse),
            "GetRole": unary(self._get_role, T.GetRoleRequest, T.Role),
            "GetIamPolicy": unary(self._get_policy, iam_policy_pb2.GetIamPolicyRequest, policy_pb2.Policy,
                                  proto_plus=False),
        }
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("google.iam.admin.v1.IAM",
                                                                                   handlers),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.relay = TcpRelay(("127.0.0.1", self.port)).start()
        return self

    def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop()
        if self.server is not None:
            self.server.stop(grace=None)

    @property
    def target(self) -> str:
        """Where clients connect: the relay in front of the server."""
        return f"127.0.0.1:{self.relay.port if self.relay is not None else self.port}"

    def _check(self, ctx: Any, project: str | None, what: str) -> None:
        """Count the call and apply the fault the plan has for it (aborting the call if the
        fault answers it)."""
        import grpc

        self.estate.count(f"iam:{what}")
        pid = (self.estate.project(project) or {}).get("projectId", project) if project else None
        fault = self.faults.take("iam", what, pid)
        if fault is None:
            return
        if fault.kind == "reset" and self.relay is not None:
            self.relay.reset(ctx.peer())
            ctx.abort(grpc.StatusCode.UNAVAILABLE, "the connection was reset")
        if fault.kind == "delay":
            time.sleep(fault.seconds or 0)
        elif fault.kind == "truncate":
            self._local.truncate = fault
        if fault.kind in ERROR_KINDS:
            err = fault_error(fault, "iam", pid, self.PERMISSIONS.get(what, "iam.serviceAccounts.get"))
            if err.details:
                ctx.abort_with_status(_rich_status(err))
            ctx.abort(grpc.StatusCode[err.code], err.message)

    def _list_sas(self, req: Any, ctx: Any) -> Any:
        import grpc
        from google.cloud.iam_admin_v1 import types as T

        project_ref = req.name.split("/", 1)[1]
        self._check(ctx, project_ref, "ListServiceAccounts")
        project = self.estate.project(project_ref)
        if project is None:
            ctx.abort(grpc.StatusCode.NOT_FOUND, f"Project {project_ref} not found")
        sas = [T.ServiceAccount(
            name=f"projects/{project['projectId']}/serviceAccounts/{sa['email']}", project_id=project["projectId"],
            unique_id=str(sa.get("uniqueId") or ""), email=sa["email"], display_name=sa.get("displayName") or "",
            description=sa.get("description") or "", disabled=bool(sa.get("disabled")), etag=b"BwYfake=",
            oauth2_client_id=str(sa.get("uniqueId") or ""),
        ) for sa in self.estate.service_accounts(project)]
        body = page(sas, "accounts", req.page_token, req.page_size or None)
        return T.ListServiceAccountsResponse(accounts=body.get("accounts", []),
                                             next_page_token=body.get("nextPageToken", ""))

    def _list_keys(self, req: Any, ctx: Any) -> Any:
        import grpc
        from google.cloud.iam_admin_v1 import types as T
        from google.protobuf import timestamp_pb2

        parts = req.name.split("/")
        found = self.estate.find_sa(parts[3]) if len(parts) >= 4 else None
        self._check(ctx, found[0]["projectId"] if found else parts[1], "ListServiceAccountKeys")
        if found is None:
            ctx.abort(grpc.StatusCode.NOT_FOUND, f"Service account {req.name} does not exist.")
        project, sa = found
        wanted = {T.ListServiceAccountKeysRequest.KeyType(k).name for k in req.key_types}

        def ts(text: str | None) -> Any:
            stamp = timestamp_pb2.Timestamp()
            if text:
                stamp.FromJsonString(text)
            return stamp

        keys = []
        for key in sa.get("keys") or []:
            key_type = key.get("keyType", "USER_MANAGED")
            if wanted and key_type not in wanted:
                continue
            keys.append(T.ServiceAccountKey(
                name=f"projects/{project['projectId']}/serviceAccounts/{sa['email']}/keys/{key['id']}",
                key_algorithm=T.ServiceAccountKeyAlgorithm[key.get("keyAlgorithm", "KEY_ALG_RSA_2048")],
                valid_after_time=ts(key.get("validAfterTime")), valid_before_time=ts(key.get("validBeforeTime")),
                key_origin=T.ServiceAccountKeyOrigin[key.get("keyOrigin", "GOOGLE_PROVIDED")],
                key_type=T.ListServiceAccountKeysRequest.KeyType[key_type], disabled=bool(key.get("disabled")),
                # A real list never carries the private key; the canary proves we would drop it.
                private_key_data=CANARY.encode(), public_key_data=b"-----PUBLIC KEY (fake)-----",
            ))
        return T.ListServiceAccountKeysResponse(keys=keys)

    def _get_role(self, req: Any, ctx: Any) -> Any:
        import grpc
        from google.cloud.iam_admin_v1 import types as T

        project = req.name.split("/")[1] if req.name.startswith("projects/") else None
        self._check(ctx, project, "GetRole")
        perms = self.estate.roles.get(req.name)
        if perms is None:
            ctx.abort(grpc.StatusCode.NOT_FOUND, f"The role named {req.name} was not found.")
        return T.Role(name=req.name, title=req.name.rsplit("/", 1)[-1], included_permissions=list(perms),
                      stage=T.Role.RoleLaunchStage.GA, etag=b"BwYfake=")

    def _get_policy(self, req: Any, ctx: Any) -> Any:
        import grpc
        from google.iam.v1 import policy_pb2
        from google.protobuf import json_format

        email = req.resource.split("/")[-1]
        found = self.estate.find_sa(email)
        self._check(ctx, found[0]["projectId"] if found else None, "GetIamPolicy")
        if found is None:
            ctx.abort(grpc.StatusCode.NOT_FOUND, f"Service account {req.resource} does not exist.")
        return json_format.ParseDict(policy_json(found[1].get("policy")), policy_pb2.Policy())


def _rich_status(err: FaultError) -> Any:
    """A gRPC status carrying ``google.rpc.ErrorInfo`` details, as Google sends them."""
    from google.protobuf import any_pb2
    from google.rpc import code_pb2, error_details_pb2, status_pb2
    from grpc_status import rpc_status

    details = []
    for d in err.details:
        info = error_details_pb2.ErrorInfo(reason=d["reason"], domain=d["domain"], metadata=d["metadata"])
        packed = any_pb2.Any()
        packed.Pack(info)
        details.append(packed)
    return rpc_status.to_status(status_pb2.Status(code=code_pb2.Code.Value(err.code), message=err.message,
                                                  details=details))


# -- REST ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    """One REST method: how its path looks, which fake API serves it, the method name the
    connector (and a fault's ``operation``) uses, and the permission a denial names."""

    verb: str
    pattern: re.Pattern[str]
    api: str
    handler: Callable[..., tuple[int, Any]]
    operation: str
    permission: str


class RestFake:
    """Every REST API the connector reads, on one loopback port, routed by path."""

    def __init__(self, estate: Estate, faults: FaultPlan) -> None:
        self.estate = estate
        self.faults = faults
        self.server: ThreadingHTTPServer | None = None
        self.requests: list[str] = []
        P = r"(?P<p>[^/]+)"
        loc = rf"^/v1/projects/{P}/locations"
        table: list[tuple[str, str, str, Callable[..., tuple[int, Any]], str, str]] = [
            ("GET", r"^/v3/organizations/(?P<o>\d+)$", "resourcemanager", self._org, "organizations.get",
             "resourcemanager.organizations.get"),
            ("POST", r"^/v3/organizations/(?P<o>\d+):getIamPolicy$", "resourcemanager", self._org_policy,
             "organizations.getIamPolicy", "resourcemanager.organizations.getIamPolicy"),
            ("GET", r"^/v3/folders/(?P<f>\d+)$", "resourcemanager", self._folder, "folders.get",
             "resourcemanager.folders.get"),
            ("POST", r"^/v3/folders/(?P<f>\d+):getIamPolicy$", "resourcemanager", self._folder_policy,
             "folders.getIamPolicy", "resourcemanager.folders.getIamPolicy"),
            ("GET", r"^/v3/projects:search$", "resourcemanager", self._search_projects, "projects.search",
             "resourcemanager.projects.get"),
            ("GET", rf"^/v3/projects/{P}$", "resourcemanager", self._project, "projects.get",
             "resourcemanager.projects.get"),
            ("POST", rf"^/v3/projects/{P}:getIamPolicy$", "resourcemanager", self._project_policy,
             "projects.getIamPolicy", "resourcemanager.projects.getIamPolicy"),
            ("GET", r"^/v2/policies/(?P<a>[^/]+)/denypolicies$", "iam_v2", self._deny_list, "denypolicies.list",
             "iam.denypolicies.list"),
            ("GET", r"^/v2/policies/(?P<a>[^/]+)/denypolicies/(?P<d>[^/]+)$", "iam_v2", self._deny_get,
             "denypolicies.get", "iam.denypolicies.get"),
            ("GET", rf"{loc}/global/workloadIdentityPools$", "iam_rest", self._pools, "workloadIdentityPools.list",
             "iam.workloadIdentityPools.list"),
            ("GET", rf"{loc}/global/workloadIdentityPools/(?P<w>[^/]+)/providers$", "iam_rest", self._providers,
             "workloadIdentityPoolProviders.list", "iam.workloadIdentityPoolProviders.list"),
            ("GET", rf"{loc}/global/activityTypes/(?P<t>[^/]+)/activities:query$", "policyanalyzer",
             self._activities, "activities.query",
             "policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query"),
            ("GET", rf"^/v2/projects/{P}/locations/global/keys$", "apikeys", self._api_keys, "keys.list",
             "apikeys.keys.list"),
            ("GET", rf"^/v2/projects/{P}/locations/global/keys/(?P<k>[^/]+)/keyString$", "apikeys",
             self._key_string, "keys.getKeyString", "apikeys.keys.getKeyString"),
            ("GET", rf"{loc}/(?P<l>[^/]+)/reasoningEngines$", "aiplatform", self._engines, "reasoningEngines.list",
             "aiplatform.reasoningEngines.list"),
            ("GET", rf"^/v2/projects/{P}/locations/(?P<l>[^/]+)/services$", "run", self._run_services,
             "services.list", "run.services.list"),
            ("GET", r"^/storage/v1/b$", "storage", self._buckets, "buckets.list", "storage.buckets.list"),
            ("GET", r"^/storage/v1/b/(?P<b>[^/]+)/iam$", "storage", self._bucket_policy, "buckets.getIamPolicy",
             "storage.buckets.getIamPolicy"),
            ("GET", rf"^/v1/projects/{P}/secrets$", "secretmanager", self._secrets, "secrets.list",
             "secretmanager.secrets.list"),
            ("GET", rf"^/v1/projects/{P}/secrets/(?P<s>[^/:]+):getIamPolicy$", "secretmanager", self._secret_policy,
             "secrets.getIamPolicy", "secretmanager.secrets.getIamPolicy"),
            ("GET", rf"^/v1/projects/{P}/secrets/(?P<s>[^/:]+)/versions/(?P<v>[^/:]+):access$", "secretmanager",
             self._access_version, "versions.access", "secretmanager.versions.access"),
            ("GET", rf"^/bigquery/v2/projects/{P}/datasets$", "bigquery", self._datasets, "datasets.list",
             "bigquery.datasets.list"),
            ("GET", rf"^/bigquery/v2/projects/{P}/datasets/(?P<d>[^/]+)$", "bigquery", self._dataset,
             "datasets.get", "bigquery.datasets.get"),
            ("POST", r"^/v2/entries:list$", "logging", self._log_entries, "entries.list", "logging.logEntries.list"),
            ("GET", r"^/v1/groups:lookup$", "cloudidentity", self._group_lookup, "groups.lookup",
             "cloudidentity.groups.get"),
            ("GET", r"^/v1/groups/(?P<g>[^/:]+)/memberships:searchTransitiveMemberships$", "cloudidentity",
             self._transitive_members, "memberships.searchTransitiveMemberships", "cloudidentity.groups.get"),
        ]
        self.routes = [Route(verb, re.compile(rx), api, fn, op, perm) for verb, rx, api, fn, op, perm in table]

    # -- lifecycle
    def start(self) -> "RestFake":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                fake._dispatch(self, "GET")

            def do_POST(self) -> None:
                fake._dispatch(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                         name="gcp-rest-fake").start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    # -- plumbing
    def _dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        path = parsed.path  # raw: a deny policy's attachment point is one %2F-encoded segment
        qs = urllib.parse.parse_qs(parsed.query)
        length = int(h.headers.get("Content-Length") or 0)
        body = json.loads(h.rfile.read(length) or b"{}") if length else {}
        self.requests.append(f"{method} {path}")
        for route in self.routes:
            m = route.pattern.match(path)
            if route.verb != method or not m:
                continue
            self.estate.count(f"{route.api}:{route.handler.__name__.lstrip('_')}")
            groups = {k: v if k == "a" else urllib.parse.unquote(v) for k, v in m.groupdict().items()}
            project = self._project_of(groups, qs)
            if project is None and isinstance(body, dict) and body.get("resourceNames"):
                project = str(body["resourceNames"][0]).removeprefix("projects/")  # entries:list names it here
            fault = self.faults.take(route.api, route.operation, project)
            if fault is not None and fault.kind == "reset":
                return reset_connection(h)
            if fault is not None and fault.kind == "delay":
                time.sleep(fault.seconds or 0)
            if fault is not None and fault.kind in ERROR_KINDS:
                err = fault_error(fault, route.api, project, route.permission)
                retry = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
                return self._error(h, err.http, err.code, err.message, list(err.details), retry)
            try:
                code, out = route.handler(qs=qs, body=body, permission=route.permission, **groups)
            except _Denied as exc:
                return self._error(h, 403, "PERMISSION_DENIED", str(exc))
            if code >= 400:
                return self._error(h, code, out.get("status", "NOT_FOUND"), out.get("message", ""))
            return self._send(h, code, out, truncate=fault if fault is not None and fault.kind == "truncate" else None)
        return self._error(h, 404, "NOT_FOUND", f"no route for {method} {path}")

    def _send(self, h: BaseHTTPRequestHandler, code: int, out: Any, headers: Mapping[str, str] | None = None,
              truncate: Fault | None = None) -> None:
        raw = json.dumps(out).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json; charset=UTF-8")
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        end_with_body(h, raw, Cut(self.faults.cut(truncate, len(raw)), truncate.whole_length) if truncate else None)

    def _error(self, h: BaseHTTPRequestHandler, code: int, status: str, message: str,
               details: list[dict[str, Any]] | None = None, headers: Mapping[str, str] | None = None) -> None:
        err: dict[str, Any] = {"code": code, "message": message, "status": status}
        if details:
            err["details"] = details
        self._send(h, code, {"error": err}, headers)

    def _project_of(self, groups: Mapping[str, str], qs: Mapping[str, list[str]]) -> str | None:
        """The id of the project a request is within (a fault's ``scope``), if it is within one."""
        ref = groups.get("p") or self._q(qs, "project")
        if "a" in groups:  # a deny policy's attachment point
            attachment = self._attachment(groups["a"])
            ref = attachment.rsplit("/", 1)[-1] if "/projects/" in attachment else None
        if "b" in groups:  # a bucket: its project
            ref = next((p["projectId"] for p in self.estate.projects.values()
                        for b in p.get("buckets") or [] if b["name"] == groups["b"]), None)
        if not ref:
            return None
        return str((self.estate.project(ref) or {}).get("projectId", ref))

    def _proj(self, ref: str, permission: str) -> dict[str, Any]:
        project = self.estate.project(ref)
        if project is None:
            raise _Denied(f"Permission '{permission}' denied on resource 'projects/{ref}' (or it may not exist).")
        return project

    @staticmethod
    def _q(qs: Mapping[str, list[str]], key: str) -> str | None:
        values = qs.get(key)
        return values[0] if values else None

    # -- Resource Manager v3
    def _org(self, o: str, **_: Any) -> tuple[int, Any]:
        org = self.estate.org
        if not org or str(org["id"]) != o:
            return 403, {"status": "PERMISSION_DENIED", "message": f"organizations/{o} denied"}
        return 200, {"name": f"organizations/{o}", "displayName": org.get("displayName", o), "state": "ACTIVE",
                     "directoryCustomerId": "C0fake", "createTime": org.get("createTime", "2020-01-01T00:00:00Z")}

    def _org_policy(self, o: str, **_: Any) -> tuple[int, Any]:
        org = self.estate.org
        if not org or str(org["id"]) != o:
            return 403, {"status": "PERMISSION_DENIED", "message": f"organizations/{o} denied"}
        return 200, policy_json(org.get("policy"))

    def _folder_json(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"name": f"folders/{f['id']}", "parent": f["parent"], "displayName": f.get("displayName", f["id"]),
                "state": "ACTIVE", "createTime": f.get("createTime", "2021-01-01T00:00:00Z")}

    def _folder(self, f: str, **_: Any) -> tuple[int, Any]:
        folder = self.estate.folders.get(f"folders/{f}")
        if folder is None:
            return 403, {"status": "PERMISSION_DENIED", "message": f"folders/{f} denied"}
        return 200, self._folder_json(folder)

    def _folder_policy(self, f: str, **_: Any) -> tuple[int, Any]:
        folder = self.estate.folders.get(f"folders/{f}")
        if folder is None:
            return 403, {"status": "PERMISSION_DENIED", "message": f"folders/{f} denied"}
        return 200, policy_json(folder.get("policy"))

    def _project_json(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"name": f"projects/{p['number']}", "parent": p.get("parent", ""), "projectId": p["projectId"],
                "state": "ACTIVE", "displayName": p.get("displayName", p["projectId"]),
                "createTime": p.get("createTime", "2022-01-01T00:00:00Z"), "labels": p.get("labels") or {},
                "etag": "W/\"fake\""}

    def _search_projects(self, qs: Mapping[str, list[str]], **_: Any) -> tuple[int, Any]:
        items = [self._project_json(p) for p in self.estate.projects.values()]
        return 200, page(items, "projects", self._q(qs, "pageToken"), self._q(qs, "pageSize"))

    def _project(self, p: str, permission: str, **_: Any) -> tuple[int, Any]:
        return 200, self._project_json(self._proj(p, permission))

    def _project_policy(self, p: str, permission: str, **_: Any) -> tuple[int, Any]:
        project = self._proj(p, permission)
        return 200, policy_json(project.get("policy"))

    # -- IAM v2 deny policies (attachment point arrives URL-encoded, sometimes twice)
    def _attachment(self, a: str) -> str:
        while "%" in a:
            a = urllib.parse.unquote(a)
        return a

    def _deny_for(self, attachment: str) -> list[dict[str, Any]]:
        m = re.match(r"^cloudresourcemanager\.googleapis\.com/projects/([^/]+)$", attachment)
        if not m:
            return []
        project = self.estate.project(m.group(1)) or {}
        return list(project.get("denyPolicies") or [])

    def _deny_json(self, attachment: str, pol: dict[str, Any], full: bool) -> dict[str, Any]:
        out = {"name": f"policies/{urllib.parse.quote(attachment, safe='')}/denypolicies/{pol['id']}",
               "uid": pol.get("uid", f"uid-{pol['id']}"), "kind": "DenyPolicy",
               "displayName": pol.get("displayName", pol["id"]), "etag": "fake",
               "createTime": pol.get("createTime", "2024-01-01T00:00:00Z")}
        if full:
            out["rules"] = pol.get("rules") or []
        return out

    def _deny_list(self, a: str, permission: str, qs: Mapping[str, list[str]], **_: Any) -> tuple[int, Any]:
        attachment = self._attachment(a)
        items = [self._deny_json(attachment, p, full=False) for p in self._deny_for(attachment)]
        return 200, page(items, "policies", self._q(qs, "pageToken"), self._q(qs, "pageSize"))

    def _deny_get(self, a: str, d: str, permission: str, **_: Any) -> tuple[int, Any]:
        attachment = self._attachment(a)
        for pol in self._deny_for(attachment):
            if pol["id"] == d:
                return 200, self._deny_json(attachment, pol, full=True)
        return 404, {"status": "NOT_FOUND", "message": f"deny policy {d} not found"}

    # -- IAM v1 workload identity federation
    def _pools(self, p: str, permission: str, qs: Mapping[str, list[str]], **_: Any) -> tuple[int, Any]:
        project = self._proj(p, permission)
        items = [{"name": f"projects/{project['number']}/locations/global/workloadIdentityPools/{w['id']}",
                  "displayName": w.get("displayName", w["id"]), "state": w.get("state", "ACTIVE"),
                  "disabled": bool(w.get("disabled"))} for w in project.get("workloadIdentityPools") or []]
        return 200, page(items, "workloadIdentityPools", self._q(qs, "pageToken"), self._q(qs, "pageSize"))

    def _providers(self, p: str, w: str, permission: str, qs: Mapping[str, list[str]], **_: Any) -> tuple[int, Any]:
        project = self._proj(p, permission)
        pool = next((x for x in project.get("workloadIdentityPools") or [] if x["id"] == w), None)
        if pool is None:
            return 404, {"status": "NOT_FOUND", "message": f"pool {w} not found"}
        items = []
        for prov in pool.get("providers") or []:
            item = {k: v for k, v in prov.items() if k != "id"}
            item["name"] = (f"projects/{project['number']}/locations/global/workloadIdentityPools/{w}"
                            f"/providers/{prov['id']}")
            item.setdefault("state", "ACTIVE")
            items.append(item)
        return 200, page(items, "workloadIdentityPoolProviders", self._q(qs, "pageToken"), self._q(qs, "pageSize"))

    # -- Policy Analyzer activities
    _LOG_TIME = re.compile(r'timestamp\s*>=\s*"([^"]+)"')
    _LOG_NAME = re.compile(r'logName\s*=\s*"([^"]+)"')
    _PRINCIPAL_HAS = re.compile(r'protoPayload\.authenticationInfo\.principalEmail\s*:\s*"([^"]+)"')

    def _log_entries(self, body: Mapping[str, Any], permission: str, **_: Any) -> tuple[int, Any]:
        """``entries:list`` (Logging API v2) over one project's ``auditLogEntries``: the filter
        terms the connector sends (``timestamp>=``, ``logName=`` or'ed, ``principalEmail:``
        substring) applied, ``orderBy`` ``timestamp asc|desc``, ``pageSize`` / ``pageToken``
        paging. Any other filter term is refused with INVALID_ARGUMENT rather than ignored."""
        names = list(body.get("resourceNames") or [])
        if len(names) != 1 or not str(names[0]).startswith("projects/"):
            return 400, {"status": "INVALID_ARGUMENT", "message": "resourceNames: one projects/ID expected"}
        project = self._proj(str(names[0]).removeprefix("projects/"), permission)
        flt = str(body.get("filter") or "")
        rest = self._PRINCIPAL_HAS.sub("", self._LOG_NAME.sub("", self._LOG_TIME.sub("", flt)))
        if re.sub(r"\b(AND|OR)\b|[()\s]", "", rest):
            return 400, {"status": "INVALID_ARGUMENT", "message": f"unsupported filter: {rest.strip()[:80]}"}
        since = self._LOG_TIME.search(flt)
        logs = set(self._LOG_NAME.findall(flt))
        has = self._PRINCIPAL_HAS.search(flt)
        items = []
        for entry in project.get("auditLogEntries") or []:
            if since and entry["timestamp"] < since.group(1):
                continue
            if logs and entry.get("logName") not in logs:
                continue
            email = ((entry.get("protoPayload") or {}).get("authenticationInfo") or {}).get("principalEmail") or ""
            if has and has.group(1) not in email:
                continue
            items.append(entry)
        items.sort(key=lambda e: e["timestamp"], reverse=str(body.get("orderBy") or "").endswith("desc"))
        return 200, page(items, "entries", body.get("pageToken"), body.get("pageSize"))

    def _activities(self, p: str, t: str, permission: str, qs: Mapping[str, list[str]], **_: Any) -> tuple[int, Any]:
        project = self._proj(p, permission)
        period = {"startTime": rfc3339(self.estate.now - dt.timedelta(days=400)), "endTime": rfc3339(self.estate.now)}
        items = []
        for sa in project.get("serviceAccounts") or []:
            sa_full = f"//iam.googleapis.com/projects/{project['projectId']}/serviceAccounts/{sa['email']}"
            if t == "serviceAccountLastAuthentication" and sa.get("lastAuthenticated"):
                items.append({"fullResourceName": sa_full, "activityType": t, "observationPeriod": period,
                              "activity": {"lastAuthenticatedTime": sa["lastAuthenticated"],
                                           "serviceAccount": {"serviceAccountId": str(sa.get("uniqueId", "")),
                                                              "projectNumber": str(project["number"]),
                                                              "fullResourceName": sa_full}}})
            if t == "serviceAccountKeyLastAuthentication":
                for key in sa.get("keys") or []:
                    if key.get("lastAuthenticated"):
                        key_full = f"{sa_full}/keys/{key['id']}"
                        items.append({"fullResourceName": key_full, "activityType": t, "observationPeriod": period,
                                      "activity": {"lastAuthenticatedTime": key["lastAuthenticated"],
                                                   "serviceAccountKey": {"serviceAccountKeyId": key["id"],
                                                                         "projectNumber": str(project["number"]),
                                                                         "fullResourceName": key_full}}})
        return 200, page(items, "activities", self._q(qs, "pageToken"), self._q(qs, "pageSize"))

    # -- API Keys v2
    def _api_keys(self, p: str, permission: str, qs: Mapping[str, list[str]], **_: Any) -> tuple[int, Any]:
        project = self._proj(p, permission)
        items = []
        for key in project.get("apiKeys") or []:
            item = {k: v for k, v in key.items() if k != "id"}
            item["name"] = f"projects/{project['number']}/locations/global/keys/{key['id']}"
            item["keyString"] = CANARY  # real list answers omit it; the canary proves we would drop it
            item.setdefault("etag", "W/\"fake\"")
            items.append(item)
        return 200, page(items, "keys", self._q(qs, "pageToken"), self._q(qs, "pageSize"))

    def _key_string(self, p: str, k: str, permission: str, **_: Any) -> tuple[int, Any]:
        self._proj(p, permission)
        return 200, {"keyString": CANARY}

    # -- Vertex AI
    def _engines(self, p: str, l: str, permission: str, qs: Mapping[str, list[str]], **_: Any) -> tuple[int, Any]:  # noqa: E741
        project = self._proj(p, permission)
        items = []
        for eng in project.get("reasoningEngines") or []:
            if eng.get("location", "us-central1") != l:
                continue
            item = {k: v for k, v in eng.items() if k not in ("id", "location")}
            item["name"] = f"projects/{project['number']}/locations/{l}/reasoningEngines/{eng['id']}"
            items.append(item)
        return 200, page(items, "reasoningEngines", self._q(qs, "pageToken"), self._q(qs, "pageSize"))

    # -- Cloud Run Admin API v2
    def _run_services(self, p: str, l: str, permission: str, qs: Mapping[str, list[str]],  # noqa: E741
                      **_: Any) -> tuple[int, Any]:
        """projects.locations.services.list: one region per call; the ``-`` wildcard is an
        INVALID_ARGUMENT, as v2 answers it. Services are named by project id, as created."""
        if l == "-":
            return 400, {"status": "INVALID_ARGUMENT",
                         "message": "Location must be a valid Google Cloud region, and cannot be the \"-\" wildcard."}
        project = self._proj(p, permission)
        items = []
        for svc in project.get("cloudRunServices") or []:
            if svc.get("location", "us-central1") != l:
                continue
            item = {k: v for k, v in svc.items() if k not in ("id", "location")}
            item["name"] = f"projects/{project['projectId']}/locations/{l}/services/{svc['id']}"
            items.append(item)
        return 200, page(items, "services", self._q(qs, "pageToken"), self._q(qs, "pageSize"))

    # -- Cloud Storage
    def _buckets(self, permission: str, qs: Mapping[str, list[str]], **_: Any) -> tuple[int, Any]:
        project = self._proj(self._q(qs, "project") or "", permission)
        items = [{"kind": "storage#bucket", "id": b["name"], "name": b["name"],
                  "projectNumber": str(project["number"]), "location": b.get("location", "US"),
                  "timeCreated": b.get("timeCreated", "2023-01-01T00:00:00.000Z"), "labels": b.get("labels") or {},
                  "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": True}}}
                 for b in project.get("buckets") or []]
        body = page(items, "items", self._q(qs, "pageToken"), self._q(qs, "maxResults"))
        return 200, {"kind": "storage#buckets", **body}

    def _bucket_policy(self, b: str, permission: str, **_: Any) -> tuple[int, Any]:
        for project in self.estate.projects.values():
            for bucket in project.get("buckets") or []:
                if bucket["name"] == b:
                    return 200, {"kind": "storage#policy", "resourceId": f"projects/_/buckets/{b}",
                                 **policy_json(bucket.get("policy"))}
        return 404, {"status": "NOT_FOUND", "message": "The specified bucket does not exist."}

    # -- Secret Manager
    def _secrets(self, p: str, permission: str, qs: Mapping[str, list[str]], **_: Any) -> tuple[int, Any]:
        project = self._proj(p, permission)
        items = [{"name": f"projects/{project['number']}/secrets/{s['id']}", "labels": s.get("labels") or {},
                  "createTime": s.get("createTime", "2024-01-01T00:00:00Z"),
                  "replication": {"automatic": {}}, "etag": "\"fake\""} for s in project.get("secrets") or []]
        body = page(items, "secrets", self._q(qs, "pageToken"), self._q(qs, "pageSize"))
        if items:
            body["totalSize"] = len(items)
        return 200, body

    def _secret_policy(self, p: str, s: str, permission: str, **_: Any) -> tuple[int, Any]:
        project = self._proj(p, permission)
        secret = next((x for x in project.get("secrets") or [] if x["id"] == s), None)
        if secret is None:
            return 404, {"status": "NOT_FOUND", "message": f"Secret [{s}] not found."}
        return 200, policy_json(secret.get("policy"))

    def _access_version(self, p: str, s: str, v: str, permission: str, **_: Any) -> tuple[int, Any]:
        """``versions/{v}:access`` as Secret Manager answers it: ``latest`` is the most recently
        created version whatever its state; a version not ENABLED is FAILED_PRECONDITION; the
        payload is ``{"data": base64, "dataCrc32c": int64 as a string}``
        (https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access
        and .../v1/SecretPayload). The estate gives a secret ``versions: [{data, state}]`` (data
        text, or ``data_b64`` for bytes) and ``access_denied: true`` where the caller lacks
        ``secretmanager.versions.access`` on it (its IAM policy, or a CMEK key it may not use)."""
        project = self._proj(p, permission)
        secret = next((x for x in project.get("secrets") or [] if x["id"] == s), None)
        resource = f"projects/{project['number']}/secrets/{s}/versions/{v}"
        if secret is None or secret.get("access_denied"):
            raise _Denied(f"Permission '{permission}' denied for resource '{resource}' (or it may not exist).")
        versions = list(secret.get("versions") or [])
        if v == "latest":
            index = len(versions)
        elif v.isdigit():
            index = int(v)
        else:
            return 400, {"status": "INVALID_ARGUMENT", "message": f"Invalid version id [{v}]."}
        if not 1 <= index <= len(versions):
            return 404, {"status": "NOT_FOUND", "message": f"Secret Version [{resource}] not found."}
        version = versions[index - 1]
        name = f"projects/{project['number']}/secrets/{s}/versions/{index}"
        state = version.get("state", "ENABLED")
        if state != "ENABLED":
            return 400, {"status": "FAILED_PRECONDITION", "message": f"Secret Version [{name}] is in {state} state."}
        data = (base64.b64decode(version["data_b64"]) if "data_b64" in version
                else str(version.get("data", "")).encode("utf-8"))
        return 200, {"name": name, "payload": {"data": base64.b64encode(data).decode("ascii"),
                                               "dataCrc32c": str(crc32c(data))}}

    # -- BigQuery
    def _datasets(self, p: str, permission: str, qs: Mapping[str, list[str]], **_: Any) -> tuple[int, Any]:
        project = self._proj(p, permission)
        items = [{"kind": "bigquery#dataset", "id": f"{project['projectId']}:{d['datasetId']}",
                  "datasetReference": {"projectId": project["projectId"], "datasetId": d["datasetId"]},
                  "labels": d.get("labels") or {}, "location": d.get("location", "US")}
                 for d in project.get("datasets") or []]
        body = page(items, "datasets", self._q(qs, "pageToken"), self._q(qs, "maxResults"))
        return 200, {"kind": "bigquery#datasetList", "etag": "fake", **body}

    def _dataset(self, p: str, d: str, permission: str, qs: Mapping[str, list[str]], **_: Any) -> tuple[int, Any]:
        project = self._proj(p, permission)
        ds = next((x for x in project.get("datasets") or [] if x["datasetId"] == d), None)
        if ds is None:
            return 404, {"status": "NOT_FOUND", "message": f"Not found: Dataset {p}:{d}"}
        version = self._q(qs, "accessPolicyVersion") or "0"
        if version not in ("0", "1", "3"):
            return 400, {"status": "INVALID_ARGUMENT", "message": f"Invalid access policy version: {version}"}
        access = []
        for entry in ds.get("access") or []:
            # Below version 3 a conditional entry's role is renamed …_withcond_<hash> and its condition
            # dropped (datasets.get reference, accessPolicyVersion).
            if entry.get("condition") and version != "3":
                digest = hashlib.sha256(repr(entry["condition"]).encode()).hexdigest()[:10]
                entry = {k: v for k, v in entry.items() if k != "condition"}
                entry["role"] = f"{entry.get('role')}_withcond_{digest}"
            access.append(entry)
        return 200, {"kind": "bigquery#dataset", "id": f"{project['projectId']}:{d}",
                     "datasetReference": {"projectId": project["projectId"], "datasetId": d},
                     "labels": ds.get("labels") or {}, "access": access,
                     "creationTime": ds.get("creationTime", "1700000000000"), "location": ds.get("location", "US")}


    # -- Cloud Identity Groups (the estate's top-level "groups": [{id, email, members: [emails]}])
    def _group_lookup(self, qs: Mapping[str, list[str]], permission: str, **_: Any) -> tuple[int, Any]:
        email = (self._q(qs, "groupKey.id") or "").lower()
        group = next((g for g in self.estate.data.get("groups") or [] if g["email"].lower() == email), None)
        if group is None:
            return 403, {"status": "PERMISSION_DENIED",
                         "message": f"Error(2028): Permission denied for resource {email} (or it may not exist)."}
        return 200, {"name": f"groups/{group['id']}"}

    def _transitive_members(self, g: str, qs: Mapping[str, list[str]], permission: str, **_: Any) -> tuple[int, Any]:
        by_id = {x["id"]: x for x in self.estate.data.get("groups") or []}
        by_email = {x["email"].lower(): x for x in by_id.values()}
        if g not in by_id:
            return 404, {"status": "NOT_FOUND", "message": f"groups/{g} not found"}
        seen: list[str] = []
        todo = list(by_id[g].get("members") or [])
        while todo:
            member = todo.pop(0).lower()
            if member in seen:
                continue
            seen.append(member)
            todo += [m for m in (by_email.get(member) or {}).get("members") or []]
        items = [{"member": f"groups/{g}/memberships/{i}", "preferredMemberKey": [{"id": m}],
                  "roles": [{"role": "MEMBER"}]} for i, m in enumerate(seen)]
        return 200, page(items, "memberships", self._q(qs, "pageToken"), self._q(qs, "pageSize"))


class _Denied(Exception):
    pass


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit: what Secret Manager
    puts in ``dataCrc32c``. Check value: crc32c(b"123456789") == 0xE3069283 (RFC 3720 B.4)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


# -- both together ---------------------------------------------------------------------------

@dataclass
class GcpFakes:
    """Both fakes over one estate; ``config()`` is the ``connectors.gcp`` section that points
    the connector at them (anonymous credentials, insecure loopback gRPC)."""

    estate: Estate
    faults: FaultPlan
    grpc: IamGrpcFake
    rest: RestFake

    def add(self, fault: Fault) -> Fault:
        """Add a fault to the plan both servers share, its API and code checked first."""
        if fault.api != "*" and fault.api not in GCP_APIS:
            raise ValueError(f"{fault.api!r} is not an API of the GCP fakes ({', '.join(GCP_APIS)})")
        if fault.code is not None and fault.code not in HTTP_OF_CODE:
            raise ValueError(f"{fault.code!r} is not a google.rpc.Code name")
        return self.faults.add(fault)

    def config(self, **extra: Any) -> dict[str, Any]:
        url = self.rest.url
        cfg: dict[str, Any] = {
            "anonymous": True, "grpc_insecure": True, "max_attempts": 3, "retry_base_delay": 0.05,
            "projects": sorted(self.estate.projects),
            "endpoints": {"iam": self.grpc.target, **{k: url for k in GCP_APIS if k != "iam"}},
        }
        if self.estate.org:
            cfg["organization_id"] = str(self.estate.org["id"])
        cfg.update(extra)
        return cfg

    def stop(self) -> None:
        self.rest.stop()
        self.grpc.stop()


def start_fakes(estate: Mapping[str, Any], now: dt.datetime, faults: FaultPlan | None = None) -> GcpFakes:
    """Start both servers on free loopback ports over ``estate``; ``faults`` (a
    :class:`Faults` by default) says which of their requests fail."""
    est = Estate(estate, now)
    faults = faults if faults is not None else Faults()
    grpc_fake = IamGrpcFake(est, faults).start()
    try:
        rest = RestFake(est, faults).start()
    except BaseException:
        grpc_fake.stop()
        raise
    return GcpFakes(est, faults, grpc_fake, rest)
