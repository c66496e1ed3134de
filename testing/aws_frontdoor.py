"""A loopback HTTP "front door" that sits between real boto3 clients and a moto server.

moto answers most read-only AWS calls well, but a credential scanner also has to be
tested against what moto cannot do: operations it does not implement (IAM
``ListServiceSpecificCredentials``, for one), and the ways AWS says no or goes wrong
(access denied for one account only, throttling that recovers, server errors, calls
that hang).  Patching boto3 would test a fake client; this module instead lets the
*real* client, with its real serializers, parsers, retry logic and timeouts, talk HTTP
to something that can misbehave on cue.

Every request is attributed to a botocore service and operation using botocore's own
service models (so faults, rules and counters use the names a test author reads in the
boto3 docs). Which requests go wrong is said by the :class:`~agentreach_testing.faults.FaultPlan`
in :attr:`AwsFrontDoor.faults` (the description the Azure and GCP fakes share; ``scope``
is the calling account); a request no fault stops is answered by the first matching
``answer`` rule, else by a built-in stand-in for the few read calls moto lacks entirely
(App Runner, EKS Pod Identity: answered as for an account with none, unless a test serves
some with ``serve_apprunner_services`` / ``serve_pod_identity_associations``), or relayed
byte-for-byte to the upstream moto server::

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0); moto.start()
    with AwsFrontDoor(f"http://127.0.0.1:{moto.get_host_and_port()[1]}") as door:
        door.throttle("iam", "ListUsers", times=2)     # or door.add(Fault("throttle", api="iam", ...))
        boto3.client("iam", endpoint_url=door.url).list_users()   # retried, then moto

Errors are produced in the exact wire format of the protocol the request arrived in
(query, ec2, json, rest-json, rest-xml, smithy-rpc-v2-cbor) so that botocore raises the
same ``ClientError`` it would raise against AWS; ``truncate`` cuts moto's (or an answer's)
body, ``reset`` drops the connection with a TCP reset. ``edit`` rewrites a successful reply
that is otherwise whole: an answer that parses but lacks a field, a list item of the wrong
shape, as a proxy or a changed API might hand it over::

    door.edit("ecs", "DescribeTaskDefinition", lambda body: {})      # JSON: a dict in, a dict out
    door.edit("iam", "ListAccessKeys", drop_first_key_id)           # XML: an Element, edited in place
"""

from __future__ import annotations

import base64
import collections
import datetime as _dt
import email.message
import gzip
import http.client
import http.server
import json
import logging
import os
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from .faults import ERROR_KINDS, Fault, FaultPlan
from .httpwire import Cut, end_with_body, reset_connection

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "AwsFrontDoor",
    "Fault",
    "FaultPlan",
    "FrontDoorRequest",
    "FrontDoorResponse",
    "FrontDoorRule",
    "error_response",
    "fault_response",
    "json_response",
    "query_xml_response",
    "throttling_error",
]

log = logging.getLogger(__name__)

#: The account moto puts every request in unless something says otherwise.
DEFAULT_ACCOUNT_ID = "123456789012"

# Wire protocols, named as botocore names them.
QUERY = "query"
EC2 = "ec2"
JSON = "json"
REST_JSON = "rest-json"
REST_XML = "rest-xml"
CBOR = "smithy-rpc-v2-cbor"
_REST = (REST_JSON, REST_XML)

# Headers that describe one hop, not the message; never relayed.  Content-Length is
# recomputed because chunked request bodies are de-chunked before forwarding.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
    }
)
# BaseHTTPRequestHandler writes its own; relaying moto's too would duplicate them.
_OWN_RESPONSE_HEADERS = frozenset({"server", "date"})

# SigV4 (and SigV4a, which has no region) credential scope.
_CREDENTIAL_RE = re.compile(
    r"Credential=([^/,\s]+)/(\d{8})/(?:([^/,\s]+)/)?([^/,\s]+)/aws4_request"
)
_CBOR_PATH_RE = re.compile(r"^/service/[^/]+/operation/([^/?]+)")
_LABEL_RE = re.compile(r"\{([^}]+)\}")


# --------------------------------------------------------------------------------------
# Requests, responses and rules
# --------------------------------------------------------------------------------------


@dataclass
class FrontDoorRequest:
    """One request as a rule handler sees it, already attributed to an AWS operation.

    ``service``/``operation`` are botocore names (``"bedrock-agent"``, ``"ListAgents"``)
    or ``""`` when the request could not be attributed.  ``protocol`` is the wire
    protocol the request actually used, which is what an error reply must be written in.
    ``headers`` has lower-cased names.  ``form`` holds query-protocol parameters (from the
    form body, or the query string for GET), ``json_body`` the decoded JSON body if any,
    and ``path_params`` the decoded URI labels of rest protocols (``{"agentId": ...}``).
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    service: str
    operation: str
    protocol: str
    region: str
    access_key_id: str
    account_id: str
    form: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    path_params: dict[str, str] = field(default_factory=dict)
    service_model: ServiceModel | None = None
    signing_name: str = ""

    @property
    def operation_model(self) -> OperationModel | None:
        if self.service_model is None or not self.operation:
            return None
        return self.service_model.operation_model(self.operation)

    def param(self, name: str, default: str | None = None) -> str | None:
        """A request parameter wherever the protocol put it: form, JSON body, query."""
        if name in self.form:
            return self.form[name]
        if isinstance(self.json_body, dict) and name in self.json_body:
            value = self.json_body[name]
            return value if isinstance(value, str) else json.dumps(value)
        values = self.query.get(name)
        return values[-1] if values else default


@dataclass
class FrontDoorResponse:
    """What a rule answers with instead of asking moto."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


RuleAction = Callable[[FrontDoorRequest], "FrontDoorResponse | None"]
#: What an ``edit`` rule does to a reply body: the decoded JSON (return the new one) or the
#: root XML element (edit it in place and return None, or return a new element).
BodyEdit = Callable[[Any], Any]


@dataclass(eq=False)
class FrontDoorRule:
    """An ``answer`` rule: a handler that replies instead of moto (faults are
    :class:`~agentreach_testing.faults.Fault` records); ``hits`` lets a test prove it fired.

    ``action`` returning ``None`` means "now forward to moto".  ``errors`` keeps exceptions
    raised by the handler, which are otherwise only visible to the client as an
    ``InternalFailure``.
    """

    kind: str
    service: str
    operation: str
    action: RuleAction
    times: int | None = None
    account: str | None = None
    hits: int = 0
    errors: list[BaseException] = field(default_factory=list)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, request: FrontDoorRequest) -> bool:
        if self.exhausted or request.service != self.service:
            return False
        if self.operation != "*" and request.operation != self.operation:
            return False
        return self.account is None or request.account_id == self.account

    def __repr__(self) -> str:
        scope = f" account={self.account}" if self.account else ""
        limit = f" times={self.times}" if self.times is not None else ""
        return (
            f"<FrontDoorRule {self.kind} {self.service}:{self.operation}"
            f"{scope}{limit} hits={self.hits}>"
        )


# --------------------------------------------------------------------------------------
# botocore model catalogue: which service and operation a request is
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    regex: re.Pattern[str]
    labels: tuple[str, ...]
    greedy: int
    query: tuple[tuple[str, str | None], ...]
    headers: tuple[str, ...]
    literal: int
    trailing_slash: bool
    deprecated: bool

    def match(
        self, method: str, path: str, query: Mapping[str, list[str]], headers: Mapping[str, str]
    ) -> tuple[tuple[int, ...], dict[str, str]] | None:
        """Specificity score and decoded labels, or None if the request is not this route.

        From most to least significant: more literal path characters; the trailing slash
        as the template has it (bedrock-agent's ``/agents/{agentId}/`` is PrepareAgent,
        bedrock-agent-runtime's ``/agents/{sessionId}`` is InvokeInlineAgent); more
        required query keys (``/{Bucket}?tagging`` beats ``/{Bucket}``); more required
        headers; no greedy label; fewer labels; not deprecated (S3's
        GetBucketLifecycle and GetBucketLifecycleConfiguration are the same request).
        """
        if method != self.method:
            return None
        m = self.regex.match(path)
        if m is None:
            return None
        for key, value in self.query:
            if key not in query or (value is not None and value not in query[key]):
                return None
        if any(name not in headers for name in self.headers):
            return None
        score = (
            self.literal,
            int(path.endswith("/") == self.trailing_slash),
            len(self.query),
            len(self.headers),
            -self.greedy,
            -len(self.labels),
            int(not self.deprecated),
        )
        return score, {name: urllib.parse.unquote(v) for name, v in zip(self.labels, m.groups(), strict=True)}


def _compile_route(op: OperationModel) -> _Route | None:
    """Turn an operation's ``http.requestUri`` template into a matcher.

    Several operations can share one template (S3 ``PUT /{Bucket}/{Key+}`` is PutObject,
    CopyObject, UploadPart and UploadPartCopy); what tells them apart is which required
    members they send as query parameters or headers, so those are required too.
    """
    method = op.http.get("method")
    uri = op.http.get("requestUri")
    if not method or not uri:
        return None
    path_tpl, _, query_tpl = uri.partition("?")
    trailing_slash = path_tpl.endswith("/")
    path_tpl = path_tpl.rstrip("/")
    parts: list[str] = ["^"]
    labels: list[str] = []
    literal = greedy = pos = 0
    for m in _LABEL_RE.finditer(path_tpl):
        text = path_tpl[pos : m.start()]
        parts.append(re.escape(text))
        literal += len(text)
        name = m.group(1)
        if name.endswith("+"):  # greedy label: may span "/" (S3 keys)
            parts.append("(.+)")
            labels.append(name[:-1])
            greedy += 1
        else:
            parts.append("([^/]+)")
            labels.append(name)
        pos = m.end()
    tail = path_tpl[pos:]
    parts.append(re.escape(tail))
    literal += len(tail)
    # Tolerate a trailing slash either way: botocore keeps the template's ("/agents/").
    parts.append("/?$")
    query: list[tuple[str, str | None]] = []
    for item in filter(None, query_tpl.split("&")):
        key, eq, value = item.partition("=")
        query.append((key, value if eq else None))
    headers: list[str] = []
    shape = op.input_shape
    if shape is not None:
        for name in shape.required_members:
            member = shape.members[name]
            location = member.serialization.get("location")
            wire_name = member.serialization.get("name", name)
            if location == "querystring" and all(k != wire_name for k, _ in query):
                query.append((wire_name, None))
            elif location == "header":
                headers.append(wire_name.lower())
    return _Route(
        operation=op.name,
        method=method.upper(),
        regex=re.compile("".join(parts)),
        labels=tuple(labels),
        greedy=greedy,
        query=tuple(query),
        headers=tuple(headers),
        literal=literal,
        trailing_slash=trailing_slash,
        deprecated=bool(op.deprecated),
    )


@dataclass
class _Attribution:
    service: str
    operation: str
    protocol: str
    model: ServiceModel | None
    path_params: dict[str, str]


def _protocols(model: ServiceModel) -> list[str]:
    listed = model.metadata.get("protocols")
    return list(listed) if listed else [model.protocol]


def _client_protocol(model: ServiceModel) -> str:
    """The protocol a current botocore client speaks to this service (it may list several)."""
    return str(getattr(model, "resolved_protocol", None) or model.protocol)


class _Catalogue:
    """Process-wide, lazily filled view of botocore's service models.

    Loading all ~450 models takes seconds, but attributing a request needs the signing
    name of every service (``bedrock`` signs six of them, ``s3`` signs s3control too).
    The signing name sits in the first lines of each model file, so the index is built
    by reading only those; full models are loaded just for the candidates of a request.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._session = botocore.session.get_session()
        self._loader = self._session.get_component("data_loader")
        self._names: frozenset[str] | None = None
        self._by_signing_name: dict[str, list[str]] | None = None
        self._models: dict[str, ServiceModel] = {}
        self._routes: dict[str, list[_Route]] = {}

    def service_names(self) -> frozenset[str]:
        with self._lock:
            if self._names is None:
                self._names = frozenset(self._loader.list_available_services("service-2"))
            return self._names

    def model(self, name: str) -> ServiceModel:
        with self._lock:
            model = self._models.get(name)
            if model is None:
                model = self._models[name] = self._session.get_service_model(name)
            return model

    def signed_as(self, signing_name: str) -> list[str]:
        """Services whose requests carry ``signing_name``, the same-named one first."""
        with self._lock:
            if self._by_signing_name is None:
                index: dict[str, list[str]] = collections.defaultdict(list)
                for name in sorted(self.service_names()):
                    index[self._signing_name(name)].append(name)
                self._by_signing_name = dict(index)
            found = list(self._by_signing_name.get(signing_name, ()))
        if not found and signing_name in self.service_names():
            found = [signing_name]
        found.sort(key=lambda n: n != signing_name)
        return found

    def routes(self, name: str) -> list[_Route]:
        with self._lock:
            routes = self._routes.get(name)
            if routes is None:
                model = self.model(name)
                compiled = (
                    _compile_route(model.operation_model(op)) for op in model.operation_names
                )
                routes = self._routes[name] = [r for r in compiled if r is not None]
            return routes

    def _signing_name(self, name: str) -> str:
        head = self._model_head(name)
        meta = head.split('"operations"', 1)[0] if '"operations"' in head else ""
        for key in ("signingName", "endpointPrefix"):
            m = re.search(rf'"{key}"\s*:\s*"([^"]+)"', meta)
            if m:
                return m.group(1)
        return str(self.model(name).signing_name)  # layout not as expected: pay for a full load

    def _model_head(self, name: str) -> str:
        try:
            version = self._loader.determine_latest_version(name, "service-2")
            for base in self._loader.search_paths:
                stem = os.path.join(base, name, version, "service-2")
                for suffix, opener in ((".json", open), (".json.gz", gzip.open)):
                    if os.path.isfile(stem + suffix):
                        with opener(stem + suffix, "rb") as fh:
                            return fh.read(8192).decode("utf-8", "replace")
        except Exception:
            log.debug("could not read the head of the %s model", name, exc_info=True)
        return ""

    def attribute(
        self,
        signing_name: str,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        form: Mapping[str, str],
    ) -> _Attribution:
        candidates = self.signed_as(signing_name) if signing_name else []
        wire = _wire_protocol(headers, form)

        if wire == CBOR:
            m = _CBOR_PATH_RE.match(path)
            op = urllib.parse.unquote(m.group(1)) if m else ""
            for name in candidates:
                model = self.model(name)
                if CBOR in _protocols(model) and op in model.operation_names:
                    return _Attribution(name, op, CBOR, model, {})
        elif wire == JSON:
            prefix, _, op = headers.get("x-amz-target", "").rpartition(".")
            models = [self.model(n) for n in candidates]
            models.sort(key=lambda mod: mod.metadata.get("targetPrefix") != prefix)
            for model in models:
                if JSON in _protocols(model) and op in model.operation_names:
                    return _Attribution(model.service_name, op, JSON, model, {})
        elif wire == QUERY:
            op = form.get("Action", "")
            for name in candidates:
                model = self.model(name)
                protocols = _protocols(model)
                if (QUERY in protocols or EC2 in protocols) and op in model.operation_names:
                    protocol = EC2 if EC2 in protocols else QUERY
                    return _Attribution(name, op, protocol, model, {})
        else:
            best: tuple[tuple[int, ...], int, str, _Route, dict[str, str]] | None = None
            for rank, name in enumerate(candidates):
                model = self.model(name)
                if _client_protocol(model) not in _REST:
                    continue
                for route in self.routes(name):
                    matched = route.match(method, path, query, headers)
                    if matched is None:
                        continue
                    score, params = matched
                    # Highest score wins; on a tie the earlier candidate (same name as
                    # the signing name) wins, hence -rank.  Requests that differ only
                    # in the host AWS would send them to (bedrock-agent and
                    # bedrock-agent-runtime both have TagResource on /tags/{arn}) are
                    # genuinely ambiguous behind one endpoint_url.
                    if best is None or (score, -rank) > (best[0], best[1]):
                        best = (score, -rank, name, route, params)
            if best is not None:
                _, _, name, route, params = best
                model = self.model(name)
                return _Attribution(name, route.operation, _client_protocol(model), model, params)

        # Unattributable: keep the signing name so a ``service`` rule with "*" still applies.
        model = self.model(candidates[0]) if candidates else None
        if wire == "rest":
            if model is not None and _client_protocol(model) in _REST:
                wire = _client_protocol(model)
            else:
                wire = REST_XML if signing_name == "s3" else REST_JSON
        elif wire == QUERY and model is not None and EC2 in _protocols(model):
            wire = EC2
        service = model.service_name if model is not None else signing_name
        return _Attribution(service, "", wire, model, {})


def _wire_protocol(headers: Mapping[str, str], form: Mapping[str, str]) -> str:
    """Which protocol family a request was written in, judged from the request alone."""
    if headers.get("smithy-protocol", "").lower() == "rpc-v2-cbor":
        return CBOR
    if "x-amz-target" in headers:
        return JSON
    if "Action" in form:
        return QUERY
    return "rest"


_CATALOGUE = _Catalogue()


def _service_model(service: ServiceModel | str) -> ServiceModel:
    return _CATALOGUE.model(service) if isinstance(service, str) else service


# --------------------------------------------------------------------------------------
# Which account a request belongs to
# --------------------------------------------------------------------------------------


def _caller_account(access_key_id: str, headers: Mapping[str, str]) -> str:
    """The account moto will file this request under.

    moto decides, in order, from the ``MOTO_ACCOUNT_ID`` environment variable, the
    ``x-moto-account-id`` header, and the access key: keys minted by ``sts:AssumeRole``
    into a role of another account are registered in that account's IAM backend.  There
    is no public API for that last step, but the front door always runs in the same
    process as ``ThreadedMotoServer``, so asking moto's in-memory IAM backends gives
    exactly moto's own answer.  If moto is absent or its internals move, fall back to
    moto's default account rather than fail the request.
    """
    if os.environ.get("MOTO_ACCOUNT_ID"):
        return os.environ["MOTO_ACCOUNT_ID"]
    if headers.get("x-moto-account-id"):
        return headers["x-moto-account-id"]
    if not access_key_id:
        return DEFAULT_ACCOUNT_ID
    try:
        from moto.iam.models import get_account_id_from

        return str(get_account_id_from(access_key_id))
    except Exception:
        log.debug("moto could not map access key %s to an account", access_key_id, exc_info=True)
        return DEFAULT_ACCOUNT_ID


# --------------------------------------------------------------------------------------
# Response builders
# --------------------------------------------------------------------------------------


def _request_id() -> str:
    return str(uuid.uuid4())


def _iso8601(value: Any) -> str:
    if isinstance(value, (int, float)):
        value = _dt.datetime.fromtimestamp(value, _dt.UTC)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        value = value.astimezone(_dt.UTC)
        fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ"
        return str(value.strftime(fmt))
    if isinstance(value, _dt.date):
        return f"{value.isoformat()}T00:00:00Z"
    return str(value)


def _xml_scalar(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        if isinstance(value, str):
            return value.lower()
        return "true" if value else "false"
    if kind == "timestamp":
        return _iso8601(value)
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    return str(value)


def _xml_member_name(shape: Shape, member_name: str) -> str:
    # Mirrors botocore's BaseXMLResponseParser._member_key_name: a flattened list with a
    # named member is keyed by the member's name, not the list's.
    if shape.type_name == "list" and shape.serialization.get("flattened"):
        named = shape.member.serialization.get("name")
        if named:
            return str(named)
    return str(shape.serialization.get("name", member_name))


def _xml_members(parent: ET.Element, shape: StructureShape, value: Mapping[str, Any]) -> None:
    unknown = set(value) - set(shape.members)
    if unknown:
        raise ValueError(f"{shape.name} has no member(s) {sorted(unknown)}")
    for name, member in shape.members.items():
        if value.get(name) is not None:
            _xml_value(parent, _xml_member_name(member, name), member, value[name])


def _xml_value(parent: ET.Element, tag: str, shape: Shape, value: Any) -> None:
    kind = shape.type_name
    if kind == "structure":
        _xml_members(ET.SubElement(parent, tag), shape, value)
    elif kind == "list":
        item_shape = shape.member
        if shape.serialization.get("flattened"):
            for item in value:
                _xml_value(parent, tag, item_shape, item)
        else:
            wrapper = ET.SubElement(parent, tag)
            item_tag = item_shape.serialization.get("name", "member")
            for item in value:
                _xml_value(wrapper, item_tag, item_shape, item)
    elif kind == "map":
        key_shape, value_shape = shape.key, shape.value
        key_tag = key_shape.serialization.get("name", "key")
        value_tag = value_shape.serialization.get("name", "value")
        flattened = shape.serialization.get("flattened")
        container = parent if flattened else ET.SubElement(parent, tag)
        for k, v in value.items():
            entry = ET.SubElement(container, tag if flattened else "entry")
            _xml_value(entry, key_tag, key_shape, k)
            _xml_value(entry, value_tag, value_shape, v)
    else:
        ET.SubElement(parent, tag).text = _xml_scalar(shape, value)


def _xml_bytes(root: ET.Element) -> bytes:
    text = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode("utf-8")


def query_xml_response(
    service_model: ServiceModel | str,
    operation: str,
    result: Mapping[str, Any],
    *,
    status: int = 200,
    request_id: str | None = None,
) -> FrontDoorResponse:
    """Serialise ``result`` as the query-protocol (or EC2) XML reply of ``operation``.

    The output shape is walked so element names, ``<member>``/``<item>`` list wrapping,
    flattened lists, ``<entry><key>…`` maps, ISO 8601 timestamps and ``true``/``false``
    come out exactly as botocore's parser expects; keys the shape does not have raise
    ``ValueError`` so a typo in a test fails loudly instead of vanishing.
    """
    model = _service_model(service_model)
    op = model.operation_model(operation)
    shape = op.output_shape
    rid = request_id or _request_id()
    root = ET.Element(f"{operation}Response")
    namespace = model.metadata.get("xmlNamespace")
    if namespace:
        root.set("xmlns", namespace)
    if model.protocol == EC2:
        ET.SubElement(root, "requestId").text = rid
        if shape is not None:
            _xml_members(root, shape, result)
    else:
        if shape is not None:
            wrapper_name = shape.serialization.get("resultWrapper") or f"{operation}Result"
            _xml_members(ET.SubElement(root, wrapper_name), shape, result)
        elif result:
            raise ValueError(f"{operation} has no output, got {sorted(result)}")
        meta = ET.SubElement(root, "ResponseMetadata")
        ET.SubElement(meta, "RequestId").text = rid
    return FrontDoorResponse(
        status=status,
        body=_xml_bytes(root),
        headers={"Content-Type": "text/xml", "x-amzn-RequestId": rid},
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def json_response(
    result: Any,
    *,
    status: int = 200,
    content_type: str = "application/x-amz-json-1.1",
    headers: Mapping[str, str] | None = None,
) -> FrontDoorResponse:
    """A json / rest-json reply; datetimes become epoch seconds, bytes base64.

    Use ``content_type="application/json"`` for rest-json services.  Members a rest-json
    operation returns in headers are the caller's to put in ``headers``.
    """
    rid = _request_id()
    out = {"Content-Type": content_type, "x-amzn-RequestId": rid}
    out.update(headers or {})
    body = json.dumps(result, default=_json_default).encode("utf-8")
    return FrontDoorResponse(status=status, body=body, headers=out)


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, n)
    raise ValueError("integer too large for CBOR")


def _cbor(value: Any) -> bytes:
    """Just enough CBOR (RFC 8949) to write rpc-v2-cbor replies."""
    if value is None:
        return b"\xf6"
    if isinstance(value, bool):
        return b"\xf5" if value else b"\xf4"
    if isinstance(value, int):
        return _cbor_head(0, value) if value >= 0 else _cbor_head(1, -1 - value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _cbor_head(3, len(raw)) + raw
    if isinstance(value, (bytes, bytearray)):
        return _cbor_head(2, len(value)) + bytes(value)
    if isinstance(value, _dt.datetime):
        return b"\xc1" + _cbor(_json_default(value))  # tag 1: epoch seconds
    if isinstance(value, Mapping):
        return _cbor_head(5, len(value)) + b"".join(_cbor(k) + _cbor(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return _cbor_head(4, len(value)) + b"".join(_cbor(v) for v in value)
    raise TypeError(f"cannot serialise {type(value).__name__} to CBOR")


def error_response(
    request: FrontDoorRequest, code: str, message: str = "", status: int = 400
) -> FrontDoorResponse:
    """An AWS error reply in the wire format of the protocol ``request`` arrived in.

    botocore picks the error code out of a different place for each protocol (the XML
    ``<Code>``, ``__type``, the ``x-amzn-ErrorType`` header, S3's bare ``<Error>``), so
    the reply has to be shaped per protocol for ``ClientError.response["Error"]["Code"]``
    to come out as ``code``.
    """
    rid = _request_id()
    fault = "Receiver" if status >= 500 else "Sender"
    model = request.service_model
    protocol = request.protocol
    headers: dict[str, str] = {"x-amzn-RequestId": rid}

    if protocol in (QUERY, EC2) or (protocol == REST_XML and request.signing_name != "s3"):
        if protocol == EC2:
            root = ET.Element("Response")
            error = ET.SubElement(ET.SubElement(root, "Errors"), "Error")
            ET.SubElement(error, "Code").text = code
            ET.SubElement(error, "Message").text = message
            ET.SubElement(root, "RequestID").text = rid
        else:
            root = ET.Element("ErrorResponse")
            namespace = model.metadata.get("xmlNamespace") if model is not None else None
            if namespace:
                root.set("xmlns", namespace)
            error = ET.SubElement(root, "Error")
            ET.SubElement(error, "Type").text = fault
            ET.SubElement(error, "Code").text = code
            ET.SubElement(error, "Message").text = message
            ET.SubElement(root, "RequestId").text = rid
        headers["Content-Type"] = "text/xml"
        return FrontDoorResponse(status, _xml_bytes(root), headers)

    if protocol == REST_XML:  # S3 and S3 Control
        root = ET.Element("Error")
        ET.SubElement(root, "Code").text = code
        ET.SubElement(root, "Message").text = message
        ET.SubElement(root, "RequestId").text = rid
        ET.SubElement(root, "HostId").text = rid
        headers.update(
            {"Content-Type": "application/xml", "x-amz-request-id": rid, "x-amz-id-2": rid}
        )
        return FrontDoorResponse(status, _xml_bytes(root), headers)

    # Services that moved off the query protocol translate codes back for old callers.
    if model is not None and "awsQueryCompatible" in model.metadata:
        headers["x-amzn-query-error"] = f"{code};{fault}"
    headers["x-amzn-ErrorType"] = code

    if protocol == CBOR:
        headers.update({"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
        return FrontDoorResponse(status, _cbor({"__type": code, "message": message}), headers)
    if protocol == JSON:
        version = (model.metadata.get("jsonVersion") if model is not None else None) or "1.0"
        headers["Content-Type"] = f"application/x-amz-json-{version}"
        body = json.dumps({"__type": code, "message": message}).encode("utf-8")
        return FrontDoorResponse(status, body, headers)
    headers["Content-Type"] = "application/json"
    return FrontDoorResponse(status, json.dumps({"message": message}).encode("utf-8"), headers)


def throttling_error(request: FrontDoorRequest) -> FrontDoorResponse:
    """The throttling reply each protocol really sends, all in botocore's retryable list."""
    status, code, message = _throttling(request)
    return error_response(request, code, message, status)


def _throttling(request: FrontDoorRequest) -> tuple[int, str, str]:
    if request.protocol == REST_XML and request.signing_name == "s3":
        return 503, "SlowDown", "Please reduce your request rate."
    code = {
        QUERY: "Throttling",
        EC2: "RequestLimitExceeded",
        REST_XML: "Throttling",
    }.get(request.protocol, "ThrottlingException")
    return 400, code, "Rate exceeded"


# What AWS says for each error kind of fault: (status, code in the query/XML protocols, code
# in the JSON ones, message).  The JSON family names its codes ...Exception.
_FAULT_ERRORS: dict[str, tuple[int, str, str, str]] = {
    "deny": (403, "AccessDenied", "AccessDeniedException", "User is not authorized to perform this operation"),
    "unavailable": (503, "ServiceUnavailable", "ServiceUnavailableException",
                    "Service is unavailable. Please try again later."),
    "error": (500, "InternalFailure", "InternalFailure", "The request processing has failed because of an "
                                                         "unknown error, exception or failure."),
    "disabled": (403, "OptInRequired", "SubscriptionRequiredException",
                 "The AWS Access Key Id needs a subscription for the service"),
}


def fault_response(request: FrontDoorRequest, fault: Fault) -> FrontDoorResponse:
    """The error reply for an error-kind fault, in the request's protocol; the fault's
    ``status`` / ``code`` / ``message`` override what AWS would say."""
    if fault.kind == "throttle":
        status, code, message = _throttling(request)
    else:
        status, query_code, json_code, message = _FAULT_ERRORS[fault.kind]
        code = json_code if request.protocol in (JSON, REST_JSON, CBOR) else query_code
    return error_response(request, fault.code or code, fault.message or message, fault.status or status)



# --------------------------------------------------------------------------------------
# The HTTP server
# --------------------------------------------------------------------------------------


@dataclass
class _Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    reason: str | None = None
    # For HEAD, moto's Content-Length describes the object and must survive.
    keep_content_length: bool = False
    cut: Cut | None = None  # a truncate fault: write only part of the body
    reset: bool = False  # a reset fault: drop the connection, answer nothing


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    front_door: AwsFrontDoor

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return  # client went away (timeouts, killed scans): expected in these tests
        log.exception("AWS front door failed handling a request from %s", client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without this every small response waits on delayed ACK (~40 ms per request).
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.front_door._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.front_door._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        body = self._read_body()
        reply = self.server.front_door._handle(self.command, self.path, self.headers, body)
        if reply.reset:
            reset_connection(self)
            return
        bodiless = reply.status in (204, 304)  # never framed with a body, whatever it holds
        self.send_response(reply.status, reply.reason)
        for name, value in reply.headers:
            self.send_header(name, value)
        if self.command != "HEAD" and not bodiless:
            end_with_body(self, reply.body, reply.cut)
        else:
            if not bodiless and not reply.keep_content_length:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
        self.wfile.flush()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _dispatch


def pod_identity_handlers(
    associations: list[dict[str, Any]], clusters: Iterable[str] | None = ()
) -> dict[str, Callable[[FrontDoorRequest], FrontDoorResponse]]:
    """EKS ``ListPodIdentityAssociations`` and ``DescribePodIdentityAssociation`` over
    ``associations``: ``PodIdentityAssociation`` dicts as Describe returns them
    (``clusterName``, ``namespace``, ``serviceAccount``, ``roleArn``, ``associationArn``,
    ``associationId``, ``createdAt`` ...), read on every request.

    As the EKS API reference says: List returns summaries (no ``roleArn``), filters by
    ``namespace`` / ``serviceAccount``, pages with ``maxResults`` (1-100) and ``nextToken``;
    a cluster not among ``clusters`` or the associations' own is ``ResourceNotFoundException``
    (``clusters=None``: every cluster exists), as is Describe of an unknown id.
    """
    summary_keys = ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId", "ownerArn")

    def cluster_of(request: FrontDoorRequest) -> str | None:
        name = request.path_params.get("name")  # the URI label ({name}) of clusterName
        if clusters is None:
            return name
        return name if name in set(clusters) | {a.get("clusterName") for a in associations} else None

    def missing(request: FrontDoorRequest, what: str) -> FrontDoorResponse:
        ref = request.path_params.get("associationId") if what == "association" else request.path_params.get("name")
        return error_response(request, "ResourceNotFoundException", f"No {what} found for name: {ref}.", 404)

    def list_handler(request: FrontDoorRequest) -> FrontDoorResponse:
        cluster = cluster_of(request)
        if cluster is None:
            return missing(request, "cluster")
        items = [a for a in associations if a.get("clusterName") == cluster]
        for key in ("namespace", "serviceAccount"):
            if request.param(key):
                items = [a for a in items if a.get(key) == request.param(key)]
        try:
            size = int(request.param("maxResults") or "100")
            start = int(request.param("nextToken") or "0")
        except ValueError:
            return error_response(request, "InvalidParameterException", "Invalid maxResults or nextToken.")
        if not 1 <= size <= 100 or not 0 <= start <= len(items):
            return error_response(request, "InvalidParameterException", "Invalid maxResults or nextToken.")
        result: dict[str, Any] = {"associations": [{k: a[k] for k in summary_keys if k in a}
                                                   for a in items[start : start + size]]}
        if start + size < len(items):
            result["nextToken"] = str(start + size)
        return json_response(result, content_type="application/json")

    def describe_handler(request: FrontDoorRequest) -> FrontDoorResponse:
        cluster = cluster_of(request)
        if cluster is None:
            return missing(request, "cluster")
        found = next((a for a in associations if a.get("clusterName") == cluster
                      and a.get("associationId") == request.path_params.get("associationId")), None)
        if found is None:
            return missing(request, "association")
        return json_response({"association": found}, content_type="application/json")

    return {"ListPodIdentityAssociations": list_handler, "DescribePodIdentityAssociation": describe_handler}


def apprunner_handlers(services: list[dict[str, Any]]) -> dict[str, Callable[[FrontDoorRequest], FrontDoorResponse]]:
    """App Runner ``ListServices``, ``DescribeService`` and ``ListTagsForResource`` over
    ``services``: ``Service`` dicts as DescribeService returns them, plus an optional ``Tags``
    list ([{Key, Value}]), read on every request.

    As the App Runner API reference says: List returns summaries (name, id, ARN, URL, times,
    status), pages with ``MaxResults`` (1-20, default 20) and ``NextToken``; Describe or
    ListTags of an unknown ARN is ``ResourceNotFoundException``.
    """
    summary_keys = ("ServiceName", "ServiceId", "ServiceArn", "ServiceUrl", "CreatedAt", "UpdatedAt", "Status")
    content = "application/x-amz-json-1.0"

    def find(request: FrontDoorRequest, key: str) -> dict[str, Any] | None:
        arn = request.param(key)
        return next((svc for svc in services if svc.get("ServiceArn") == arn), None)

    def list_handler(request: FrontDoorRequest) -> FrontDoorResponse:
        try:
            size = int(request.param("MaxResults") or "20")
            start = int(request.param("NextToken") or "0")
        except ValueError:
            return error_response(request, "InvalidRequestException", "Invalid MaxResults or NextToken.")
        if not 1 <= size <= 20 or not 0 <= start <= len(services):
            return error_response(request, "InvalidRequestException", "Invalid MaxResults or NextToken.")
        result: dict[str, Any] = {"ServiceSummaryList": [{k: svc[k] for k in summary_keys if k in svc}
                                                         for svc in services[start : start + size]]}
        if start + size < len(services):
            result["NextToken"] = str(start + size)
        return json_response(result, content_type=content)

    def describe_handler(request: FrontDoorRequest) -> FrontDoorResponse:
        found = find(request, "ServiceArn")
        if found is None:
            return error_response(request, "ResourceNotFoundException",
                                  f"Service not found: {request.param('ServiceArn')}")
        return json_response({"Service": {k: v for k, v in found.items() if k != "Tags"}}, content_type=content)

    def tags_handler(request: FrontDoorRequest) -> FrontDoorResponse:
        found = find(request, "ResourceArn")
        if found is None:
            return error_response(request, "ResourceNotFoundException",
                                  f"Resource not found: {request.param('ResourceArn')}")
        return json_response({"Tags": list(found.get("Tags") or [])}, content_type=content)

    return {"ListServices": list_handler, "DescribeService": describe_handler, "ListTagsForResource": tags_handler}


# Read calls moto does not implement at all, answered as AWS answers an account that has none
# of the thing (an empty list; "not found" for a name). A test serves some with serve_*.
_STANDINS: dict[tuple[str, str], Callable[[FrontDoorRequest], FrontDoorResponse]] = {
    **{("apprunner", op): h for op, h in apprunner_handlers([]).items()},
    **{("eks", op): h for op, h in pod_identity_handlers([], clusters=None).items()},
}


class AwsFrontDoor:
    """Loopback HTTP server in front of a same-process moto server; see the module doc.

    A request first meets :attr:`faults` (the first live fault that matches decides), then
    the ``answer`` rules in the order they were added, then moto.  ``fail`` / ``throttle`` /
    ``delay`` add a :class:`Fault` and ``answer`` a :class:`FrontDoorRule`; each returns
    what it added, whose ``hits`` a test can assert on.
    """

    def __init__(
        self,
        upstream_url: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        upstream_timeout: float = 60.0,
        faults: FaultPlan | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(upstream_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream_url!r}")
        self.upstream_url = upstream_url.rstrip("/")
        self._upstream = (parts.hostname, parts.port or 80)
        self._upstream_timeout = upstream_timeout
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._rules: list[FrontDoorRule] = []
        self._edits: list[tuple[FrontDoorRule, BodyEdit]] = []
        #: Which requests go wrong (scope: the calling account); shareable with other fakes.
        self.faults = faults if faults is not None else FaultPlan()
        self._local = threading.local()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        #: Requests seen, keyed (botocore service, operation); ``("", "")`` or
        #: ``(service, "")`` for requests that could not be attributed.
        self.calls: collections.Counter[tuple[str, str]] = collections.Counter()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> str:
        if self._server is not None:
            raise RuntimeError("AwsFrontDoor is already running")
        server = _Server((self._host, self._port), _Handler)
        server.front_door = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"aws-frontdoor-{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        # Keep-alive connections would otherwise go on being served after stop().
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("AwsFrontDoor is not running; call start() first")
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}"

    # -- faults and rules ----------------------------------------------------------------

    def add(self, fault: Fault) -> Fault:
        """Add a fault to :attr:`faults` after checking its names against botocore's models."""
        self._check_names(fault.api, fault.operation)
        return self.faults.add(fault)

    def fail(
        self,
        service: str,
        operation: str = "*",
        *,
        status: int = 403,
        code: str = "AccessDenied",
        message: str = "User is not authorized to perform this operation",
        times: int | None = None,
        account: str | None = None,
    ) -> Fault:
        """Answer matching requests with an AWS error (json services usually say
        ``AccessDeniedException``; pass ``code``).  ``times=N`` fails only the first N."""
        return self.add(Fault("deny" if status == 403 else "error", api=service, operation=operation,
                              scope=account, times=times, status=status, code=code, message=message))

    def throttle(
        self,
        service: str,
        operation: str = "*",
        times: int | None = 2,
        *,
        account: str | None = None,
    ) -> Fault:
        """Throttle the first ``times`` matching requests with the protocol's own code
        (``Throttling``, ``ThrottlingException``, ``RequestLimitExceeded``, S3 ``SlowDown``)."""
        return self.add(Fault("throttle", api=service, operation=operation, scope=account, times=times))

    def delay(
        self,
        service: str,
        operation: str = "*",
        *,
        seconds: float,
        times: int | None = None,
        account: str | None = None,
    ) -> Fault:
        """Sleep, then forward to moto: for timeouts and scans interrupted mid-way."""
        return self.add(Fault("delay", api=service, operation=operation, scope=account, times=times,
                              seconds=seconds))

    def answer(
        self,
        service: str,
        operation: str,
        handler: Callable[[FrontDoorRequest], FrontDoorResponse | None],
        *,
        times: int | None = None,
        account: str | None = None,
    ) -> FrontDoorRule:
        """Answer with ``handler(request)``; a handler returning ``None`` forwards to moto."""
        self._check_names(service, operation)
        if times is not None and times < 0:
            raise ValueError("times must be >= 0")
        rule = FrontDoorRule("answer", service, operation, handler, times=times, account=account)
        with self._lock:
            self._rules.append(rule)
        return rule

    def edit(
        self,
        service: str,
        operation: str,
        change: BodyEdit,
        *,
        times: int | None = None,
        account: str | None = None,
    ) -> FrontDoorRule:
        """Rewrite the body of matching successful replies (moto's or an answer's) with
        ``change`` before they are sent: a JSON body is decoded and ``change`` returns the new
        one; an XML body is parsed and ``change`` edits the root element (or returns a new
        one). The reply stays well framed, so it parses; what it says is ``change``'s."""
        self._check_names(service, operation)
        if times is not None and times < 0:
            raise ValueError("times must be >= 0")
        rule = FrontDoorRule("edit", service, operation, lambda _request: None, times=times, account=account)
        with self._lock:
            self._edits.append((rule, change))
        return rule

    def serve_pod_identity_associations(
        self, associations: list[dict[str, Any]], clusters: Iterable[str] = ()
    ) -> list[FrontDoorRule]:
        """Answer EKS ``ListPodIdentityAssociations`` and ``DescribePodIdentityAssociation``
        (moto has neither) over ``associations`` (see :func:`pod_identity_handlers`)."""
        return [self.answer("eks", op, h) for op, h in pod_identity_handlers(associations, clusters).items()]

    def serve_apprunner_services(self, services: list[dict[str, Any]]) -> list[FrontDoorRule]:
        """Answer App Runner ``ListServices``, ``DescribeService`` and ``ListTagsForResource``
        (moto has no App Runner) over ``services`` (see :func:`apprunner_handlers`)."""
        return [self.answer("apprunner", op, h) for op, h in apprunner_handlers(services).items()]

    def serve_service_specific_credentials(
        self, creds_by_account: Mapping[str, list[dict[str, Any]]]
    ) -> FrontDoorRule:
        """Implement IAM ``ListServiceSpecificCredentials`` (moto raises NotImplemented).

        ``creds_by_account`` maps account id to ``ServiceSpecificCredentialMetadata``
        dicts; it is read on every request, so a test may change it afterwards.  As AWS
        does: ``UserName`` lists that user's, ``AllUsers=true`` the whole account's (with
        ``UserName`` it is a ``ValidationError``), neither lists the caller's own (the
        front door does not know the calling user, so that is empty), ``ServiceName``
        filters, and ``MaxItems``/``Marker``/``IsTruncated`` page.
        """
        operation = "ListServiceSpecificCredentials"

        def handler(request: FrontDoorRequest) -> FrontDoorResponse:
            user = request.form.get("UserName")
            all_users = request.form.get("AllUsers", "false").lower() == "true"
            if user and all_users:
                return error_response(
                    request,
                    "ValidationError",
                    "UserName and AllUsers cannot be specified together.",
                )
            items = list(creds_by_account.get(request.account_id, ()))
            if not all_users:
                items = [c for c in items if user and c.get("UserName") == user]
            service_name = request.form.get("ServiceName")
            if service_name:
                items = [c for c in items if c.get("ServiceName") == service_name]
            try:
                max_items = int(request.form.get("MaxItems", "100"))
                start = int(request.form.get("Marker") or "0")
            except ValueError:
                return error_response(request, "ValidationError", "Invalid MaxItems or Marker.")
            if not 1 <= max_items <= 1000 or not 0 <= start <= len(items):
                return error_response(request, "ValidationError", "Invalid MaxItems or Marker.")
            page = items[start : start + max_items]
            result: dict[str, Any] = {"ServiceSpecificCredentials": page}
            if start + max_items < len(items):
                result.update(IsTruncated=True, Marker=str(start + max_items))
            else:
                result["IsTruncated"] = False
            return query_xml_response(request.service_model or "iam", operation, result)

        return self.answer("iam", operation, handler)

    def serve_lookup_events(
        self, events_by_account: Mapping[str, list[Mapping[str, Any]]], *, page_size: int = 50
    ) -> FrontDoorRule:
        """Implement CloudTrail ``LookupEvents`` (moto lacks it), as the CloudTrail API
        Reference documents it: ``StartTime``/``EndTime`` bound ``EventTime``, the newest
        event comes first, ``MaxResults`` is 1..50 (default 50), ``NextToken`` pages, and a
        token that was not handed out is ``InvalidNextTokenException``. Each event is the
        CloudTrail record (a dict) of ``events_by_account[account]``; the reply carries the
        documented ``Events`` members with the record as the JSON string ``CloudTrailEvent``.
        Only the calling region's records (``awsRegion``) are listed, as LookupEvents is
        regional. Throttling (2 requests a second per account and region on AWS) is a fault
        a test adds: ``Fault("throttle", api="cloudtrail", operation="LookupEvents")``."""

        def epoch(value: Any) -> float | None:
            if value in (None, ""):
                return None
            try:
                return float(value)
            except (TypeError, ValueError):
                return _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()

        def handler(request: FrontDoorRequest) -> FrontDoorResponse:
            body = request.json_body if isinstance(request.json_body, dict) else {}
            try:
                start, end = epoch(body.get("StartTime")), epoch(body.get("EndTime"))
            except ValueError:
                return error_response(request, "InvalidTimeRangeException", "Invalid StartTime or EndTime.")
            if start is not None and end is not None and start > end:
                return error_response(request, "InvalidTimeRangeException",
                                      "Start time must be before end time.")
            size = int(body.get("MaxResults") or page_size)
            if not 1 <= size <= 50:
                return error_response(request, "InvalidMaxResultsException", "MaxResults must be 1 to 50.")
            rows = []
            for record in events_by_account.get(request.account_id, ()):
                if record.get("awsRegion") != request.region:
                    continue
                when = _dt.datetime.fromisoformat(str(record["eventTime"]).replace("Z", "+00:00")).timestamp()
                if (start is not None and when < start) or (end is not None and when > end):
                    continue
                rows.append((when, record))
            rows.sort(key=lambda r: -r[0])
            token = body.get("NextToken")
            offset = 0
            if token:
                if not (isinstance(token, str) and token.startswith("lookup-") and token[7:].isdigit()):
                    return error_response(request, "InvalidNextTokenException", "Invalid NextToken.")
                offset = int(token[7:])
            page = rows[offset:offset + size]
            events = []
            for when, record in page:
                ui = record.get("userIdentity") or {}
                events.append({
                    "EventId": record.get("eventID") or "", "EventName": record.get("eventName"),
                    "ReadOnly": str(record.get("readOnly", "")).lower(), "AccessKeyId": ui.get("accessKeyId"),
                    "EventTime": when, "EventSource": record.get("eventSource"),
                    "Username": ui.get("userName") or (ui.get("sessionContext") or {}).get(
                        "sessionIssuer", {}).get("userName"),
                    "Resources": [{"ResourceType": r.get("type"), "ResourceName": r.get("ARN")}
                                  for r in record.get("resources") or []],
                    "CloudTrailEvent": json.dumps(record),
                })
            result: dict[str, Any] = {"Events": [{k: v for k, v in e.items() if v is not None} for e in events]}
            if offset + size < len(rows):
                result["NextToken"] = f"lookup-{offset + size}"
            return json_response(result)

        return self.answer("cloudtrail", "LookupEvents", handler)

    def serve_last_accessed(
        self, details_by_arn: Mapping[str, list[Mapping[str, Any]]], *, in_progress_polls: int = 1,
        page_size: int = 100,
    ) -> list[FrontDoorRule]:
        """Implement IAM ``GenerateServiceLastAccessedDetails`` and
        ``GetServiceLastAccessedDetails`` (moto lacks both), as the IAM API Reference documents
        them: Generate takes ``Arn`` and ``Granularity`` (``SERVICE_LEVEL`` default or
        ``ACTION_LEVEL``) and returns a ``JobId``; Get reports ``JobStatus`` ``IN_PROGRESS``
        for the first ``in_progress_polls`` calls of a job, then ``COMPLETED`` with
        ``ServicesLastAccessed`` (``TrackedActionsLastAccessed`` only at ``ACTION_LEVEL``),
        paged by ``MaxItems``/``Marker``/``IsTruncated``; an unknown job id is
        ``NoSuchEntity``. ``details_by_arn`` maps a principal ARN to its
        ``ServicesLastAccessed`` entries; an ARN it lacks has used no service."""
        jobs: dict[str, dict[str, Any]] = {}
        lock = threading.Lock()

        def generate(request: FrontDoorRequest) -> FrontDoorResponse:
            arn = request.form.get("Arn") or ""
            granularity = request.form.get("Granularity") or "SERVICE_LEVEL"
            if not arn.startswith("arn:"):
                return error_response(request, "InvalidInput", "Arn is not a valid ARN.")
            if granularity not in ("SERVICE_LEVEL", "ACTION_LEVEL"):
                return error_response(request, "InvalidInput", "Granularity must be SERVICE_LEVEL or ACTION_LEVEL.")
            with lock:
                job_id = f"{len(jobs) + 1:08d}-0000-4000-8000-{abs(hash(arn)) % 10**12:012d}"
                jobs[job_id] = {"arn": arn, "granularity": granularity, "polls": 0,
                                "created": _dt.datetime.now(_dt.UTC)}
            return query_xml_response(request.service_model or "iam", "GenerateServiceLastAccessedDetails",
                                      {"JobId": job_id})

        def get(request: FrontDoorRequest) -> FrontDoorResponse:
            job_id = request.form.get("JobId") or ""
            with lock:
                job = jobs.get(job_id)
                if job is not None:
                    job["polls"] += 1
            if job is None:
                return error_response(request, "NoSuchEntity", f"The job {job_id} cannot be found.")
            result: dict[str, Any] = {"JobType": job["granularity"], "JobCreationDate": job["created"]}
            if job["polls"] <= in_progress_polls:
                result.update(JobStatus="IN_PROGRESS", ServicesLastAccessed=[])
                return query_xml_response(request.service_model or "iam", "GetServiceLastAccessedDetails", result)
            services = []
            for entry in details_by_arn.get(job["arn"], ()):
                item = dict(entry)
                if job["granularity"] != "ACTION_LEVEL":
                    item.pop("TrackedActionsLastAccessed", None)
                services.append(item)
            try:
                size = int(request.form.get("MaxItems") or page_size)
                start = int(request.form.get("Marker") or "0")
            except ValueError:
                return error_response(request, "InvalidInput", "Invalid MaxItems or Marker.")
            result.update(JobStatus="COMPLETED", JobCompletionDate=job["created"],
                          ServicesLastAccessed=services[start:start + size])
            if start + size < len(services):
                result.update(IsTruncated=True, Marker=str(start + size))
            else:
                result["IsTruncated"] = False
            return query_xml_response(request.service_model or "iam", "GetServiceLastAccessedDetails", result)

        return [self.answer("iam", "GenerateServiceLastAccessedDetails", generate),
                self.answer("iam", "GetServiceLastAccessedDetails", get)]

    def clear_rules(self) -> None:
        """Withdraw every fault and every answer rule."""
        self.faults.clear()
        with self._lock:
            self._rules.clear()
            self._edits.clear()

    def remove_rule(self, rule: Fault | FrontDoorRule) -> None:
        """Withdraw one fault or rule, e.g. the ones a single test added to a shared front door."""
        if isinstance(rule, Fault):
            self.faults.remove(rule)
        with self._lock:
            self._rules = [r for r in self._rules if r is not rule]
            self._edits = [(r, c) for r, c in self._edits if r is not rule]

    @property
    def rules(self) -> list[Fault | FrontDoorRule]:
        """The faults, then the answer rules, then the edit rules, each in the order it is tried."""
        with self._lock:
            answers = list(self._rules)
            edits = [r for r, _ in self._edits]
        return [*self.faults.faults, *answers, *edits]

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()

    def _check_names(self, service: str, operation: str | re.Pattern[str]) -> None:
        # Catch typos now: a rule that can never match makes a test pass for no reason.
        if service == "*":
            return
        if service not in _CATALOGUE.service_names():
            raise ValueError(f"{service!r} is not a botocore service name")
        names = _CATALOGUE.model(service).operation_names
        if isinstance(operation, re.Pattern):
            if not any(operation.search(name) for name in names):
                raise ValueError(f"{service} has no operation matching {operation.pattern!r}")
        elif operation != "*" and operation not in names:
            raise ValueError(f"{service} has no operation {operation!r}")

    # -- request handling ----------------------------------------------------------------

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def _handle(
        self, method: str, target: str, raw_headers: email.message.Message, body: bytes
    ) -> _Reply:
        request = self._describe(method, target, raw_headers, body)
        with self._lock:
            self.calls[(request.service, request.operation)] += 1
        fault = self.faults.take(request.service, request.operation, request.account_id)
        if fault is not None and fault.kind in ERROR_KINDS:
            response = fault_response(request, fault)
            return _Reply(response.status, list(response.headers.items()), response.body)
        if fault is not None and fault.kind == "reset":
            return _Reply(0, [], b"", reset=True)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds or 0)
        reply = self._edited(request, self._answer(request, method, target, raw_headers, body))
        if fault is not None and fault.kind == "truncate":
            reply.cut = Cut(self.faults.cut(fault, len(reply.body)), fault.whole_length)
        return reply

    def _answer(
        self,
        request: FrontDoorRequest,
        method: str,
        target: str,
        raw_headers: email.message.Message,
        body: bytes,
    ) -> _Reply:
        """The first matching answer rule's reply, else moto's."""
        with self._lock:
            rule = next((r for r in self._rules if r.matches(request)), None)
            if rule is not None:
                rule.hits += 1
        if rule is not None:
            try:
                response = rule.action(request)
            except Exception as exc:
                rule.errors.append(exc)
                log.warning("front door rule %r raised", rule, exc_info=True)
                response = error_response(
                    request, "InternalFailure", f"front door rule raised {exc!r}", 500
                )
            if response is not None:
                return _Reply(response.status, list(response.headers.items()), response.body)
        standin = _STANDINS.get((request.service, request.operation))
        if standin is not None:  # what moto lacks, answered as an account without any
            response = standin(request)
            return _Reply(response.status, list(response.headers.items()), response.body)
        return self._forward(method, target, raw_headers, body)

    def _edited(self, request: FrontDoorRequest, reply: _Reply) -> _Reply:
        """The reply as the first matching ``edit`` rule rewrites it (successful replies only)."""
        if not 200 <= reply.status < 300 or not reply.body:
            return reply
        with self._lock:
            found = next(((r, c) for r, c in self._edits if r.matches(request)), None)
            if found is not None:
                found[0].hits += 1
        if found is None:
            return reply
        rule, change = found
        headers = [(k, v) for k, v in reply.headers if k.lower() != "content-encoding"]
        raw = gzip.decompress(reply.body) if any(
            k.lower() == "content-encoding" and "gzip" in v.lower() for k, v in reply.headers) else reply.body
        try:
            if request.protocol in (JSON, REST_JSON):
                new = json.dumps(change(json.loads(raw)), default=_json_default).encode("utf-8")
            else:
                root = ET.fromstring(raw)
                edited = change(root)
                new = _xml_bytes(edited if edited is not None else root)
        except Exception as exc:  # a broken edit is the test's bug: say so, as an answer rule does
            rule.errors.append(exc)
            log.warning("front door edit %r raised", rule, exc_info=True)
            response = error_response(request, "InternalFailure", f"front door edit raised {exc!r}", 500)
            return _Reply(response.status, list(response.headers.items()), response.body)
        return _Reply(reply.status, headers, new, reply.reason)

    def _describe(
        self, method: str, target: str, raw_headers: email.message.Message, body: bytes
    ) -> FrontDoorRequest:
        headers = {k.lower(): v for k, v in raw_headers.items()}
        split = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)

        # Query-protocol calls always go to "/"; elsewhere a form body is just an S3 object.
        form: dict[str, str] = {}
        content_type = headers.get("content-type", "")
        if split.path == "/" and content_type.startswith("application/x-www-form-urlencoded"):
            parsed = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            form = {k: v[-1] for k, v in parsed.items()}
        if split.path == "/" and not form and "Action" in query:
            form = {k: v[-1] for k, v in query.items()}

        json_body: Any = None
        if body and "json" in headers.get("content-type", ""):
            try:
                json_body = json.loads(body)
            except ValueError:
                json_body = None

        credential = _CREDENTIAL_RE.search(headers.get("authorization", ""))
        if credential is None and "X-Amz-Credential" in query:  # presigned URL
            credential = _CREDENTIAL_RE.search("Credential=" + query["X-Amz-Credential"][-1])
        access_key_id, region, signing_name = "", "", ""
        if credential is not None:
            access_key_id, _, region, signing_name = credential.groups()
            region = region or ""

        attribution = _CATALOGUE.attribute(
            signing_name, method.upper(), split.path, query, headers, form
        )
        return FrontDoorRequest(
            method=method.upper(),
            path=split.path,
            query=query,
            headers=headers,
            body=body,
            service=attribution.service,
            operation=attribution.operation,
            protocol=attribution.protocol,
            region=region,
            access_key_id=access_key_id,
            account_id=_caller_account(access_key_id, headers),
            form=form,
            json_body=json_body,
            path_params=attribution.path_params,
            service_model=attribution.model,
            signing_name=signing_name,
        )

    def _upstream_connection(self, fresh: bool) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            host, port = self._upstream
            conn = http.client.HTTPConnection(host, port, timeout=self._upstream_timeout)
            self._local.conn = conn
        return conn

    def _forward(
        self, method: str, target: str, raw_headers: email.message.Message, body: bytes
    ) -> _Reply:
        headers = [(k, v) for k, v in raw_headers.items() if k.lower() not in _HOP_BY_HOP]
        if body or method in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", str(len(body))))
        # One retry on a fresh connection: moto may have closed an idle keep-alive one.
        for attempt in range(2):
            reused = getattr(self._local, "conn", None) is not None and attempt == 0
            conn = self._upstream_connection(fresh=attempt > 0)
            try:
                conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    conn.putheader(name, value)
                conn.endheaders(body or None)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                conn.close()
                self._local.conn = None
                if reused:
                    continue
                return self._bad_gateway(exc)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                self._local.conn = None
                return self._bad_gateway(exc)
            if response.will_close:
                conn.close()
                self._local.conn = None
            out = [
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in _HOP_BY_HOP and k.lower() not in _OWN_RESPONSE_HEADERS
            ]
            keep_length = method == "HEAD" and response.getheader("Content-Length") is not None
            if keep_length:
                out.append(("Content-Length", response.getheader("Content-Length", "0")))
            return _Reply(response.status, out, data, response.reason, keep_length)
        raise AssertionError("unreachable")

    def _bad_gateway(self, exc: BaseException) -> _Reply:
        log.warning("front door could not reach moto at %s: %r", self.upstream_url, exc)
        body = f"front door could not reach {self.upstream_url}: {exc!r}".encode()
        return _Reply(502, [("Content-Type", "text/plain")], body)
