"""Whether an AWS answer is whole, before anything reads it.

Two checks, both turning a bad answer into a ``ResponseMalformed`` coverage gap instead of a
traceback or a silent loss:

* on the wire (:func:`check_body`, a botocore ``before-parse`` handler): a body shorter than
  its ``Content-Length``, an empty body where the operation answers with one, or a JSON body
  that does not parse. botocore reads with ``enforce_content_length=False`` and its JSON
  parser turns unparseable text into ``{"message": ...}``, so a reply cut half-way would
  otherwise parse as an answer with every field missing: a page with no items, a resource
  with no tags. XML that does not parse already raises botocore's ``ResponseParserError``.
* per item (:func:`missing`): the fields a transform indexes, checked on each item a get
  function hands it, so one odd item is skipped with a gap naming it and its siblings stay.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

MALFORMED = "ResponseMalformed"

# Where a member of an output shape is read from other than the body.
_NOT_BODY = frozenset({"header", "headers", "statusCode"})


class MalformedResponse(Exception):
    """The answer arrived but is not whole; the message says how it is not."""


def check_body(operation_model: Any, response_dict: Mapping[str, Any], **_: Any) -> None:
    """botocore ``before-parse`` handler: raise :class:`MalformedResponse` for an answer whose
    body is cut, empty where one is due, or not the JSON or XML its protocol promises.

    An error reply is held to what it says it is (its length header, and its content type
    when that names JSON or XML): a cut "no such policy" must not read as one, but a proxy's
    HTML error page is left to botocore, which reports its status."""
    if operation_model.has_streaming_output:
        return  # a streamed body is not read here
    body = response_dict.get("body") or b""
    headers = response_dict.get("headers") or {}
    declared = str(headers.get("content-length") or "")
    encoding = str(headers.get("content-encoding") or "identity").lower()
    if declared.isdigit() and encoding == "identity" and int(declared) != len(body):
        raise MalformedResponse(f"the reply was cut: {len(body)} of {declared} bytes arrived")
    if response_dict.get("status_code", 200) >= 300:
        content_type = str(headers.get("content-type") or "").lower()
        kind = "json" if "json" in content_type else "xml" if "xml" in content_type else None
        if body.strip() and kind and not _parses(body, kind):
            raise MalformedResponse(f"the error reply is not whole {kind.upper()}")
        return
    kind = _body_kind(operation_model)
    if kind is None:
        return
    if not body.strip():
        raise MalformedResponse("the reply has an empty body where the operation answers with one")
    if kind == "json" and not _parses(body, kind):
        raise MalformedResponse("the reply is not whole JSON")


def _parses(body: bytes, kind: str) -> bool:
    import xml.etree.ElementTree as ET

    try:
        json.loads(body) if kind == "json" else ET.fromstring(body)
    except (ValueError, ET.ParseError):
        return False
    return True


def _body_kind(operation_model: Any) -> str | None:
    """``json`` or ``xml`` when the operation's answer lives in its body; None when it has
    no body members, or its payload is a raw string or blob (a policy text)."""
    shape = operation_model.output_shape
    if shape is None:
        return None
    payload = shape.serialization.get("payload")
    if payload:
        member = shape.members.get(payload)
        if member is None or member.type_name in ("blob", "string"):
            return None
    elif not any(m.serialization.get("location") not in _NOT_BODY for m in shape.members.values()):
        return None
    protocol = operation_model.service_model.resolved_protocol
    if protocol in ("json", "rest-json"):
        return "json"
    if protocol in ("query", "ec2", "rest-xml"):
        return "xml"
    return None  # rpc-v2-cbor: botocore's own parser refuses a cut body


def error_code(exc: BaseException) -> str:
    """The gap code of a failed call: AWS's own error code, ``ResponseMalformed`` for an
    answer that is not whole, else the exception's type."""
    from botocore.parsers import ResponseParserError

    if isinstance(exc, (MalformedResponse, ResponseParserError)):
        return MALFORMED
    code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
    return str(code) if code else type(exc).__name__


def missing(item: Any, fields: Sequence[str]) -> list[str]:
    """The ``fields`` (dotted for nested ones: ``taskDefinition.taskDefinitionArn``) that
    ``item`` lacks or holds empty; all of them when it is not an object."""
    out = []
    for path in fields:
        value: Any = item
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None or value == "":
            out.append(path)
    return out


def describe(item: Any, names: Sequence[str] = ("Arn", "arn", "Name", "name", "UserName", "RoleName")) -> str:
    """A short name for an item in a gap's message: the first naming field it has."""
    if isinstance(item, Mapping):
        for key in names:
            if isinstance(item.get(key), str) and item[key]:
                return f"{key} {item[key]}"
        return "an item with " + (", ".join(sorted(map(str, item))[:6]) or "no fields")
    return f"a {type(item).__name__} where an object belongs"
