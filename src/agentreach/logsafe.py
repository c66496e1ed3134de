"""Logging that is safe to paste into a ticket, at every verbosity.

The SDKs' own debug logging prints whole requests and responses: an assumed role's
``SecretAccessKey`` and session token, Lambda and ECS environment *values*, bearer tokens,
a private key a scan read. So their wire loggers stay at WARNING whatever ``-v`` says, and
the connectors log their own request lines instead (service, operation, status, duration,
request id: never a body or a header). As a second line of defence every handler agentreach
installs carries :class:`Redactor`, which blanks anything shaped like a secret before it is
written, so a careless log call of ours cannot leak one either.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Iterable

# Loggers that log request and response bodies or headers at DEBUG (and sometimes INFO).
SDK_LOGGERS: tuple[str, ...] = (
    "botocore", "boto3", "s3transfer", "urllib3", "requests", "httpx", "httpcore", "azure", "msal",
    "msal_extensions", "google", "google_auth_httplib2", "googleapiclient", "grpc", "werkzeug", "hpack",
)

REDACTED = "[REDACTED]"
_KEYWORDS = (r"secret[_-]?access[_-]?key|aws[_-]?secret[_-]?access[_-]?key|session[_-]?token|security[_-]?token"
             r"|x-amz-security-token|client[_-]?secret|password|passwd|pwd|api[_-]?key|apikey|access[_-]?token"
             r"|refresh[_-]?token|id[_-]?token|private[_-]?key|secret|token|credential|authorization|secret[_-]?text")
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM blocks, also inside JSON strings where newlines are written "\n"
    (re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(-----END [A-Z0-9 ]+-----|$)", re.S), "-----" + REDACTED + "-----"),
    # XML elements of the query protocols: <SecretAccessKey>…</SecretAccessKey>
    (re.compile(r"(?i)(<(?:[\w:]*?)(?:SecretAccessKey|SessionToken|Password|SecretString|Value|Token)>)[^<]*"),
     r"\1" + REDACTED),
    # Authorization: Bearer … / Basic …; SigV4 signatures
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    (re.compile(r"(?i)(signature=)[0-9a-f]{16,}"), r"\1" + REDACTED),
    # key = value, "key": "value", key: value, --key value for secret-looking keys
    (re.compile(rf"(?i)((?:{_KEYWORDS})[\"']?\s*(?:[:=]|=>)\s*[\"']?|--(?:{_KEYWORDS})\s+)"
                r"(?!\[REDACTED\])[^\s\"',;&<>{}\]]{6,}"), r"\1" + REDACTED),
    # well-known token shapes wherever they stand
    (re.compile(r"\b(?:sk-(?:proj|ant|svcacct|admin)?-?[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{30,}"
                r"|github_pat_[A-Za-z0-9_]{30,}|xox[baprs]-[A-Za-z0-9-]{10,}|hf_[A-Za-z0-9]{20,}"
                r"|glpat-[A-Za-z0-9_-]{20}|AIza[0-9A-Za-z_-]{35}|gsk_[A-Za-z0-9]{20,})"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), REDACTED),  # JWTs
)


def redact(text: str) -> str:
    """``text`` with everything shaped like a secret replaced by ``[REDACTED]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class Redactor(logging.Filter):
    """Redacts a record's message (and exception text) before any formatter sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def quiet_sdks(loggers: Iterable[str] = SDK_LOGGERS) -> None:
    """Keep the SDKs' wire logging off at every verbosity."""
    for name in loggers:
        logging.getLogger(name).setLevel(logging.WARNING)


_OURS: set[int] = set()


def configure(level: int, *, verbose: int = 0) -> None:
    """Root logging on stderr at ``level`` through a redacting handler; SDK wire loggers
    off; coverage-gap lines only with ``-v`` (gaps are reported, not logged, otherwise)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(Redactor())
        root.addHandler(handler)
        root.setLevel(level)
        _OURS.add(id(handler))
    elif any(id(h) in _OURS for h in root.handlers):  # ours, from an earlier call: follow -q / -v given later
        root.setLevel(level)
    for handler in root.handlers:  # whoever installed it, nothing leaves through it unredacted
        if not any(isinstance(f, Redactor) for f in handler.filters):
            handler.addFilter(Redactor())
    quiet_sdks()
    logging.getLogger("agentreach.gaps").setLevel(logging.WARNING if verbose else logging.ERROR)
