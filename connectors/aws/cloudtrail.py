"""CloudTrail records into activity events: pure, no AWS call (the get side is activity.py).

The format is AWS's: a log file is a gzip-compressed JSON document ``{"Records": [...]}``
delivered under ``[prefix/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`` as
``ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz`` (CloudTrail User Guide, "CloudTrail
log file examples" and "Finding your CloudTrail log files"). ``LookupEvents`` gives the same
record as a JSON string in each event's ``CloudTrailEvent``.

From each record only what says who did what to which resource, when, from where and with
what outcome is kept; ``requestParameters`` is read for a resource name only where
``resources`` names none, and neither it nor ``responseElements`` is ever kept.

The bench (bench/activity.py) runs this same code over five million records.
"""

from __future__ import annotations

import gzip
import json
import re
from typing import Any, Iterator, Mapping, TypedDict

import msgspec

from agentreach.activity import MAX_TEXT, ActivityEvent, Aggregator

PROVIDER = "aws"

# eventSource host -> the IAM service prefix of its actions, where the two differ.
SERVICE_PREFIX = {
    "monitoring": "cloudwatch", "email": "ses", "bedrock-agent-runtime": "bedrock",
    "bedrock-runtime": "bedrock", "bedrock-agent": "bedrock", "s3express": "s3express",
    "elasticloadbalancing": "elasticloadbalancing", "runtime.sagemaker": "sagemaker",
}

DENIED_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Client.UnauthorizedOperation",
    "UnauthorizedAccess", "AuthorizationError", "Forbidden", "InvalidClientTokenId", "SignatureDoesNotMatch",
    "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException",
})

# <prefix/>AWSLogs/<o-org/>ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/<file>
KEY_RE = re.compile(
    r"(?:^|/)AWSLogs/(?:(?P<org>o-[a-z0-9]{10,32})/)?(?P<account>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/"
    r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<file>[^/]+\.json\.gz)$")

# requestParameters keys that name the resource acted on, where ``resources`` is empty
# (management events): key -> ARN template ({v} the value, {r} region, {a} account).
_PARAM_ARNS: tuple[tuple[str, str], ...] = (
    ("bucketName", "arn:aws:s3:::{v}"),
    ("tableName", "arn:aws:dynamodb:{r}:{a}:table/{v}"),
    ("secretId", "arn:aws:secretsmanager:{r}:{a}:secret:{v}"),
    ("functionName", "arn:aws:lambda:{r}:{a}:function:{v}"),
    ("keyId", "arn:aws:kms:{r}:{a}:key/{v}"),
    ("roleArn", "{v}"),
    ("roleName", "arn:aws:iam::{a}:role/{v}"),
    ("userName", "arn:aws:iam::{a}:user/{v}"),
    ("policyArn", "{v}"),
    ("modelId", "arn:aws:bedrock:{r}::foundation-model/{v}"),
    ("agentId", "arn:aws:bedrock:{r}:{a}:agent/{v}"),
    ("agentRuntimeArn", "{v}"),
    ("name", ""),  # too generic to build an ARN from: ignored on purpose
)


# What a log file is decoded into: only the fields an activity event is made of. msgspec skips
# every other field without building it (requestParameters but for its naming keys,
# responseElements, additionalEventData, tlsDetails …), which is most of a record's bytes and
# most of the time a generic JSON decode spends; the result is plain dicts, as json gives.
class _SessionIssuer(TypedDict, total=False):
    type: str
    arn: str


class _SessionContext(TypedDict, total=False):
    sessionIssuer: _SessionIssuer


class _UserIdentity(TypedDict, total=False):
    type: str
    arn: str
    accountId: str
    accessKeyId: str
    sessionContext: _SessionContext


class _Resource(TypedDict, total=False):
    ARN: str
    arn: str
    type: str


# The requestParameters keys that name a resource (_PARAM_ARNS); the rest of it is never built.
_Params = TypedDict("_Params", {name: Any for name, template in _PARAM_ARNS if template}, total=False)  # type: ignore[misc]


class _Record(TypedDict, total=False):
    eventTime: str
    eventSource: str
    eventName: str
    awsRegion: str
    sourceIPAddress: str
    userAgent: str
    errorCode: str
    recipientAccountId: str
    userIdentity: _UserIdentity
    resources: list[_Resource]
    requestParameters: _Params | None


class _LogFile(TypedDict):
    Records: list[_Record]


_DECODER = msgspec.json.Decoder(_LogFile)


def key_date(key: str) -> str | None:
    """``YYYY/MM/DD`` of a log file key in the standard layout, else None (a digest file,
    an object that is not a CloudTrail log)."""
    m = KEY_RE.search(key)
    return f"{m['y']}/{m['m']}/{m['d']}" if m else None


def parse_key(key: str) -> dict[str, str] | None:
    """The parts of a log file key: org (or ""), account, region, date ``YYYY/MM/DD``."""
    m = KEY_RE.search(key)
    if not m:
        return None
    return {"org": m["org"] or "", "account": m["account"], "region": m["region"],
            "date": f"{m['y']}/{m['m']}/{m['d']}", "file": m["file"]}


class LogFileError(ValueError):
    """A log file that is not gzip JSON with a ``Records`` list; the message names why."""


def records_of(data: bytes) -> list[Mapping[str, Any]]:
    """The records of one delivered log file (gzip JSON ``{"Records": [...]}``; an already
    decompressed body is taken as it is). One file is at most tens of MB, and the only thing
    held whole: the listing and the other files are streamed."""
    try:
        text = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    except (OSError, EOFError, ValueError, gzip.BadGzipFile) as exc:
        raise LogFileError(f"not a CloudTrail log file ({type(exc).__name__}: {str(exc)[:120]})") from None
    try:
        return _DECODER.decode(text)["Records"]
    except msgspec.ValidationError as exc:
        if "Records" in str(exc) and "missing required field" in str(exc):
            raise LogFileError("not a CloudTrail log file (no Records list)") from None
        # A field of an unexpected type somewhere: fall back to the generic decode, and let
        # event_of skip what it cannot read, rather than lose the file's other records.
        doc = _loads(text)
    except msgspec.DecodeError as exc:
        raise LogFileError(f"not a CloudTrail log file (not JSON: {str(exc)[:120]})") from None
    records = doc.get("Records") if isinstance(doc, dict) else None
    if not isinstance(records, list):
        raise LogFileError("not a CloudTrail log file (no Records list)")
    return records


def _loads(text: bytes) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise LogFileError(f"not a CloudTrail log file (not JSON: {str(exc)[:120]})") from None


def _node_id(type_: str, public: str) -> str:
    return f"aws:{type_}:{public}"


def principal_of(ui: Mapping[str, Any]) -> tuple[str, str | None, str] | None:
    """(identity node id, credential node id or None, principal ARN) of a ``userIdentity``,
    named the way the IAM collector names them; None for a caller that is no principal of
    an account (an AWS service acting itself, an anonymous request)."""
    kind = ui.get("type")
    key = ui.get("accessKeyId") or ""
    credential = _node_id("access_key", key) if key.startswith("AKIA") else None
    if kind == "IAMUser":
        arn = ui.get("arn")
        return (_node_id("iam_user", arn), credential, arn) if arn else None
    if kind in ("AssumedRole", "FederatedUser"):
        issuer = (ui.get("sessionContext") or {}).get("sessionIssuer") or {}
        arn = issuer.get("arn")
        if not arn:
            return None
        kind_ = "iam_role" if issuer.get("type") == "Role" else "iam_user"
        return _node_id(kind_, arn), credential, ui.get("arn") or arn
    if kind == "Root":
        arn = ui.get("arn") or (f"arn:aws:iam::{ui['accountId']}:root" if ui.get("accountId") else None)
        return (_node_id("root", arn), credential, arn) if arn else None
    return None


def action_of(record: Mapping[str, Any]) -> str | None:
    source, name = record.get("eventSource"), record.get("eventName")
    if not source or not name:
        return None
    host = source.removesuffix(".amazonaws.com")
    return f"{SERVICE_PREFIX.get(host, host)}:{name}"


def resource_of(record: Mapping[str, Any]) -> str:
    """The system the call acted on, as the ARN the AWS collectors give that system: a
    bucket's ARN for an object (reach is per bucket), the first other resource's ARN, else
    an ARN built from a naming request parameter, else ``""``."""
    resources = record.get("resources")
    if resources:
        first = ""
        for res in resources:
            arn = res.get("ARN") or res.get("arn") or ""
            rtype = res.get("type") or ""
            if rtype == "AWS::S3::Bucket" and arn:
                return arn
            if not first and arn and rtype != "AWS::S3::Object":
                first = arn
            if not first and arn and rtype == "AWS::S3::Object":
                first = "arn:aws:s3:::" + arn.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        if first:
            return first
    params = record.get("requestParameters")
    if isinstance(params, dict):
        region = record.get("awsRegion") or ""
        account = record.get("recipientAccountId") or (record.get("userIdentity") or {}).get("accountId") or ""
        for name, template in _PARAM_ARNS:
            value = params.get(name)
            if template and isinstance(value, str) and value:
                if value.startswith("arn:"):
                    return value
                return template.format(v=value, r=region, a=account)
    return ""


def outcome_of(record: Mapping[str, Any]) -> tuple[str, str | None]:
    code = record.get("errorCode")
    if not code:
        return "success", None
    code = str(code)
    if code in DENIED_CODES or "AccessDenied" in code or "Unauthorized" in code:
        return "denied", code
    return "error", code


def event_of(record: Mapping[str, Any], source: str = "cloudtrail") -> ActivityEvent | None:
    """One record as an activity event, or None when it names no principal of an account
    or no action (an AWS service event, an Insights event)."""
    ui = record.get("userIdentity")
    if not isinstance(ui, dict):
        return None
    who = principal_of(ui)
    action = action_of(record)
    when = record.get("eventTime")
    if who is None or action is None or not isinstance(when, str):
        return None
    outcome, code = outcome_of(record)
    ua = record.get("userAgent")
    ip = record.get("sourceIPAddress")
    return ActivityEvent(
        identity=who[0], credential=who[1], principal=who[2], action=action, resource=resource_of(record),
        time=when, outcome=outcome, error_code=code, provider=PROVIDER,
        source_ip=ip[:MAX_TEXT] if isinstance(ip, str) else None,
        user_agent=ua[:MAX_TEXT] if isinstance(ua, str) else None,
        account=record.get("recipientAccountId") or ui.get("accountId"), source=source)


def events_of(records: Any, since: str | None = None, source: str = "cloudtrail") -> Iterator[ActivityEvent]:
    """The events of records at or after ``since`` (ISO 8601 UTC), one :func:`event_of` per
    record: the plain reading, which :func:`fold` (the path every log takes, with its caches)
    is tested to agree with."""
    for record in records:
        event = event_of(record, source) if isinstance(record, dict) else None
        if event is not None and (since is None or event.time >= since):
            yield event


_MISSING: Any = object()


def fold(records: Any, agg: Aggregator, since: str | None = None, source: str = "cloudtrail") -> int:
    """Fold records straight into ``agg`` (what :func:`events_of` then ``agg.add`` would do,
    without building an event per record: the path a log file's records take). Returns how
    many records became activity."""
    who_cache: dict[tuple[Any, ...], tuple[str, str, str] | None] = {}
    action_cache: dict[tuple[Any, Any], str | None] = {}
    add = agg.add_parts
    n = 0
    for record in records:
        if type(record) is not dict:
            continue
        when = record.get("eventTime")
        if type(when) is not str or (since is not None and when < since):
            continue
        ui = record.get("userIdentity")
        if type(ui) is not dict:
            continue
        context = ui.get("sessionContext")
        issuer = context.get("sessionIssuer") if type(context) is dict else None
        wkey = (ui.get("type"), ui.get("arn"), ui.get("accessKeyId"), ui.get("accountId"),
                (issuer.get("arn"), issuer.get("type")) if type(issuer) is dict else None)
        who = who_cache.get(wkey, _MISSING)
        if who is _MISSING:
            found = principal_of(ui)
            who = who_cache[wkey] = (found[0], found[1] or "", found[2]) if found else None
        if who is None:
            continue
        akey = (record.get("eventSource"), record.get("eventName"))
        action = action_cache.get(akey, _MISSING)
        if action is _MISSING:
            action = action_cache[akey] = action_of(record)
        if action is None:
            continue
        code = record.get("errorCode")
        if code:
            outcome, code = outcome_of(record)
        else:
            outcome = "success"
        ua = record.get("userAgent")
        ip = record.get("sourceIPAddress")
        add(who[0], who[1], action, resource_of(record), outcome, source, when,
            ip[:MAX_TEXT] if type(ip) is str else None, ua[:MAX_TEXT] if type(ua) is str else None, code, PROVIDER,
            record.get("recipientAccountId") or ui.get("accountId"), who[2])
        n += 1
    return n


def lookup_records(events: Any) -> Iterator[Mapping[str, Any]]:
    """The CloudTrail records inside ``LookupEvents`` answers (``CloudTrailEvent`` is the
    record as a JSON string); an event whose string is not JSON is skipped."""
    for event in events:
        text = event.get("CloudTrailEvent")
        if not isinstance(text, str):
            continue
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record
