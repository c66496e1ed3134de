"""Secret detection: our detectors (``config/secret-detectors.yaml``) as detect-secrets
``RegexBasedDetector`` plugins next to a trimmed list of its built-in plugins and filters,
behind a fast compiled-regex prefilter.

detect-secrets is ~450x slower than one compiled regex pass at default settings
(test-infra.md 4.3), so only the lines the prefilter picks reach its plugins and filters,
and only with the plugins listed here. Its traps (4.2) are handled here: custom plugins are
loaded by file path with ``get_mapping_from_secret_type_to_class.cache_clear()`` inside
``transient_settings``; ``is_indirect_reference`` is not enabled (it drops
``Anthropic(api_key="...")``); several plugins firing on one line are deduped by the caller.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

from agentreach.config import shipped

from .decode import split_lines
from .engine import Matcher, Rule, build

DETECTORS_FILE = "secret-detectors.yaml"
PLUGIN_FILE = Path(__file__).with_name("ds_plugins.py")

# Built-in detect-secrets plugins worth their cost (no entropy plugins: too noisy on code).
BUILTIN_PLUGINS: dict[str, dict[str, Any]] = {
    # plugin class -> (label, provider hint, agent_related)
    "AWSKeyDetector": {"label": "AWS access key id", "provider": "aws", "agent_related": False},
    "PrivateKeyDetector": {"label": "private key", "provider": "", "agent_related": False},
    "SlackDetector": {"label": "Slack token", "provider": "slack", "agent_related": False},
    "StripeDetector": {"label": "Stripe key", "provider": "stripe", "agent_related": False},
    "OpenAIDetector": {"label": "OpenAI API key", "provider": "openai", "agent_related": True},
    "NpmDetector": {"label": "npm token", "provider": "npm", "agent_related": False},
    "PypiTokenDetector": {"label": "PyPI token", "provider": "pypi", "agent_related": False},
    "SendGridDetector": {"label": "SendGrid key", "provider": "sendgrid", "agent_related": False},
    "TwilioKeyDetector": {"label": "Twilio key", "provider": "twilio", "agent_related": False},
    "DiscordBotTokenDetector": {"label": "Discord bot token", "provider": "discord", "agent_related": False},
    "TelegramBotTokenDetector": {"label": "Telegram bot token", "provider": "telegram", "agent_related": False},
    "AzureStorageKeyDetector": {"label": "Azure storage key", "provider": "azure", "agent_related": False},
    "JwtTokenDetector": {"label": "JSON web token", "provider": "", "agent_related": False},
    "BasicAuthDetector": {"label": "basic-auth credential in a URL", "provider": "", "agent_related": False},
    "KeywordDetector": {"label": "secret keyword", "provider": "", "agent_related": False},
}

# Literal anchors of the built-in plugins (prefilter only; the plugins decide). A line holding
# none of the literals (these, our detectors' keywords, KEYWORDS) is never a candidate.
BUILTIN_ANCHORS = [
    "AKIA", "ASIA", "ABIA", "ACCA", "A3T", "PRIVATE KEY", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
    "glpat-", "glptt-", "xox", "hooks.slack.com", "sk_live_", "rk_live_", "T3BlbkFJ", "npm_", "_authToken",
    "pypi-", "SG.", "discord", "telegram", "AccountKey=", "eyJ",
]
# KeywordDetector's own denylist words (detect_secrets/plugins/keyword.py), spelled out as
# literals so the prefilter is plain substring search; "://" stands for user:pass@ URLs.
KEYWORDS = [
    f"{word}{sep}{tail}" for word, tail in (
        ("api", "key"), ("auth", "key"), ("service", "key"), ("account", "key"), ("db", "key"), ("database", "key"),
        ("priv", "key"), ("private", "key"), ("client", "key"), ("db", "pass"), ("database", "pass"), ("key", "pass"))
    for sep in ("_", "")
] + ["password", "passwd", "pwd", "secret", "contrasena", "contraseña", "://"]

# Filters kept (is_indirect_reference is deliberately absent, and is_templated_secret is ours:
# it drops any value in braces, ``{ZqL5kVrX1n8tA2}`` too, where Noise keeps a value that does not
# read as a name; filename filters are applied by
# the walker, and is_potential_uuid is applied by us to built-in plugin hits only, because
# Langfuse keys embed a UUID).
FILTERS = [
    "detect_secrets.filters.allowlist.is_line_allowlisted",
    "detect_secrets.filters.heuristic.is_sequential_string",
    "detect_secrets.filters.heuristic.is_likely_id_string",
    "detect_secrets.filters.heuristic.is_prefixed_with_dollar_sign",
    "detect_secrets.filters.heuristic.is_not_alphanumeric_string",
]


# Lines longer than this (minified code, base64 in notebooks) are shown to the plugins as the
# stretch from BACK characters before a match end (widened by up to WORD to a word start) to
# AHEAD after it; no key format is longer than BACK.
LONG_LINE = 4096
BACK = 4096
AHEAD = 64
WORD = 512


def plugin_regexes(plugin: Any) -> list[re.Pattern[str]]:
    """The regexes a detect-secrets plugin matches with, for the prefilter: RegexBasedDetector's
    ``denylist``; for KeywordDetector every file type's regexes (which one applies is its own
    choice); a plugin with neither is asked about every line."""
    if type(plugin).__name__ == "KeywordDetector":
        from detect_secrets.plugins import keyword

        tables = [*keyword.REGEX_BY_FILETYPE.values(), keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP]
        return sorted({rx for table in tables for rx in table}, key=lambda rx: rx.pattern)
    regexes = list(getattr(plugin, "denylist", None) or ())
    return regexes or [re.compile(r"^")]


@dataclass(frozen=True)
class DetectorSpec:
    id: str
    secret_type: str
    label: str
    pattern: str
    keywords: tuple[str, ...]
    provider: str
    agent_related: bool
    near: str | None = None
    near_lines: int = 20
    min_entropy: float | None = None  # Shannon bits/char of the body; None: the format is proof enough
    generic: bool = False  # matches a shape, not a format: placeholder and reference noise apply
    weak_values: bool = False  # a default or placeholder value is reported (marked), not dropped
    # file suffixes of languages where an unquoted identifier is a variable: an env-style
    # ``NAME=value`` means a literal in .env and shell files, a variable in Python (``token = nextchar``)
    variables_in: tuple[str, ...] = ()

    @property
    def class_name(self) -> str:
        return "".join(p.capitalize() for p in re.split(r"[^A-Za-z0-9]+", self.id) if p) + "Detector"


@lru_cache(maxsize=1)
def detectors_file() -> dict[str, Any]:
    """config/secret-detectors.yaml, parsed once per process (detectors, noise, fixtures, verifiers);
    with libyaml's loader where PyYAML has it (every worker process parses it: ~10x faster)."""
    return yaml.load(shipped(DETECTORS_FILE), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


@lru_cache(maxsize=1)
def load_specs() -> tuple[DetectorSpec, ...]:
    data = detectors_file()
    out = []
    for item in data.get("detectors") or []:
        spec = DetectorSpec(
            id=item["id"], secret_type=item["secret_type"], label=item.get("label") or item["secret_type"],
            pattern=item["pattern"], keywords=tuple(item.get("keywords") or ()), provider=item.get("provider", ""),
            agent_related=bool(item.get("agent_related")), near=item.get("near"),
            near_lines=int(item["near_lines"]) if item.get("near_lines") is not None else 20,
            min_entropy=float(item["min_entropy"]) if item.get("min_entropy") is not None else None,
            generic=bool(item.get("generic")), weak_values=item.get("weak_values") == "report",
            variables_in=tuple(str(x).lower() for x in item.get("variables_in") or ()),
        )
        re.compile(spec.pattern)
        if spec.class_name in BUILTIN_PLUGINS:  # detect-secrets would load its own class under that name
            raise ValueError(f"secret detector {spec.id!r}: its class name {spec.class_name} is a detect-secrets "
                             "plugin's; give it another id")
        out.append(spec)
    return tuple(out)


def shannon(text: str) -> float:
    """Shannon entropy in bits per character (0 for an empty string)."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


_NAME_TOKEN = re.compile(r"[A-Z]{2,}(?![a-z])|[A-Z]?[a-z]+|\d+|[A-Z]")


def reads_as_name(text: str) -> bool:
    """Whether ``text`` reads as a name somebody typed (``apiKey``, ``YOUR_API_KEY``,
    ``self.token``, ``0``) rather than random characters (``ZqL5kVrX1n8tA2``, a GUID): its
    letter words average 2.5 characters or more and it has at most two runs of digits. Random
    mixed-case text breaks into one- and two-letter words at every case change and digit.
    Measured (not a test): 97.6% of 146,000 identifiers in site-packages read as names, and
    11% of random 8-40 character alphanumerics, 2% of random hex. Three characters or fewer
    always read as a name (``{x}``, ``{0}``): too short to be a secret."""
    if len(text.strip()) <= 3:
        return True
    tokens = _NAME_TOKEN.findall(text)
    words = [t for t in tokens if not t.isdigit()]
    if not words:
        return len(tokens) == 1  # one run of digits: a format index ({12}); digits and separators: no
    return sum(map(len, words)) / len(words) >= 2.5 and len(tokens) - len(words) <= 2


WEAK = "weak value"
CODE = "code or digest"
VARIABLE = "a variable in code"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Noise:
    """What makes a hit not a live secret (config/secret-detectors.yaml, ``noise:``)."""

    allow: re.Pattern[str]
    placeholder: tuple[re.Pattern[str], ...]
    weak: tuple[re.Pattern[str], ...]  # placeholder words and default passwords
    code: tuple[re.Pattern[str], ...]  # expressions and digests
    examples: frozenset[str]
    reference: re.Pattern[str]
    # secret_type -> floor for detectors that are not ours (built-ins, generic MCP credentials)
    min_entropy: Mapping[str, float] = field(default_factory=dict)
    entropy_prefix: re.Pattern[str] = re.compile(r"(?!x)x")
    ciphertext: re.Pattern[str] = re.compile(r"(?!x)x")  # sops / ansible-vault lines (case-sensitive)
    example_markers: tuple[str, ...] = ()  # documentation examples: "EXAMPLE" in the value
    sealed: re.Pattern[str] = re.compile(r"(?!x)x")  # ciphertext values (SealedSecrets)
    placeholder_line: re.Pattern[str] = re.compile(r"(?!x)x")  # a PEM block with a placeholder body
    # placeholders only when the part their group 1 takes reads as a name ({apiKey}, not {ZqL5kVrX1n8tA2})
    named: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def load(cls) -> "Noise":
        data = detectors_file().get("noise") or {}
        join = lambda items, flags=re.I: re.compile("|".join(f"(?:{p})" for p in items) or r"(?!x)x", flags)  # noqa: E731
        return cls(allow=join(data.get("allow_comments") or []),
                   placeholder=tuple(re.compile(p, re.I) for p in data.get("placeholder_values") or []),
                   named=tuple(re.compile(p, re.I) for p in data.get("name_placeholder_values") or []),
                   weak=tuple(re.compile(p, re.I) for p in data.get("weak_values") or []),
                   code=tuple(re.compile(p) for p in data.get("code_values") or []),
                   examples=frozenset(data.get("example_values") or []),
                   reference=join(data.get("reference_lines") or []),
                   min_entropy={str(k): float(v) for k, v in (data.get("min_entropy") or {}).items()},
                   entropy_prefix=re.compile(data.get("entropy_prefix") or r"(?!x)x"),
                   ciphertext=join(data.get("ciphertext_lines") or [], 0),
                   sealed=join(data.get("ciphertext_values") or [], 0),
                   placeholder_line=join(data.get("placeholder_lines") or []),
                   example_markers=tuple(str(m) for m in data.get("example_markers") or ()))

    def body(self, value: str) -> str:
        """The part of a value entropy is measured on: without a leading ``sk-``-style prefix,
        which is the same in every key and would only pad the count, nor base64's trailing ``=``
        padding, which is the same in every key of a length."""
        m = self.entropy_prefix.match(value)
        body = value[m.end():] if m and m.end() < len(value) else value
        return body.rstrip("=") or body

    def is_weak(self, value: str) -> bool:
        """A placeholder word or a default password (``noise.weak_values``)."""
        return any(p.search(value.strip("'\"` ")) for p in self.weak)

    def is_named_placeholder(self, value: str) -> bool:
        """A template field or a field's name (``noise.name_placeholder_values``) whose name part
        reads as a name: ``{apikey}`` is a template, ``{ZqL5kVrX1n8tA2}`` a value pasted into one."""
        for p in self.named:
            m = p.search(value)
            if m and reads_as_name(m.group(1)):
                return True
        return False

    def below_floor(self, value: str, floor: float | None) -> bool:
        return floor is not None and shannon(self.body(value)) < floor

    def reason(self, value: str, line: str, ours: bool, floor: float | None = None,
               generic: bool = False) -> str | None:
        """Why a hit is noise, or None. Our typed detectors match a key's real shape, so only
        allow comments, documented examples, ciphertext, placeholder PEM bodies and (for the
        context-anchored ones) an entropy floor silence them; hits of the built-ins and of generic
        detectors are also dropped for weak values, placeholders and lines that only read a secret,
        and generic ones (``generic``) for values that are code or a digest."""
        if self.allow.search(line):
            return "allow comment"
        if value in self.examples or any(m in value for m in self.example_markers):
            return "documented example"
        if self.ciphertext.search(line) or self.sealed.match(value.strip("'\"` ")):
            return "ciphertext"
        if self.placeholder_line.search(line):
            return "placeholder"
        if self.below_floor(value, floor):
            return "below entropy floor"
        if ours:
            return None
        stripped = value.strip("'\"` ")
        if self.is_weak(stripped):
            return WEAK  # first: a detector with weak_values: report keeps these
        if any(p.search(stripped) for p in self.placeholder) or self.is_named_placeholder(stripped):
            return "placeholder"
        if generic and any(p.search(stripped) for p in self.code):
            return CODE
        if self.reference.search(line) and len(stripped) < 40:
            return "reference to a secret elsewhere"
        return None


def plugin_classes() -> dict[str, type]:
    """One detect-secrets RegexBasedDetector class per spec (imported by ds_plugins.py)."""
    from detect_secrets.plugins.base import RegexBasedDetector

    classes: dict[str, type] = {}
    for spec in load_specs():
        classes[spec.class_name] = type(spec.class_name, (RegexBasedDetector,), {
            "__doc__": spec.label, "secret_type": spec.secret_type,
            "denylist": [re.compile(spec.pattern)],
        })
    return classes


@dataclass(frozen=True)
class Hit:
    """One value a detector found on one line. ``value`` never leaves the connector."""

    line: int
    secret_type: str
    value: str
    label: str
    provider: str
    agent_related: bool
    ours: bool


class Scanner:
    """Prefilter + detect-secrets over the text of one file (or the added lines of a diff).

    The prefilter is one pass of a multi-pattern engine (``engine.py``) over every plugin's own
    regexes; a plugin is asked about a line only when one of its regexes may match there and
    the line holds one of the prefilter's literals. A line longer than LONG_LINE (minified
    code, a notebook's base64 output) is not handed over whole: each plugin sees the stretch
    around where the engine saw its match end."""

    def __init__(self, engine: str = "auto") -> None:
        self.engine_name = engine
        self._matcher: Matcher | None = None
        self._names: list[str] = []
        self.specs = load_specs()
        self.by_type = {s.secret_type: s for s in self.specs}
        self._near = {s.secret_type: re.compile(s.near) for s in self.specs if s.near}
        # Substring search per literal beats one big case-insensitive alternation by two
        # orders of magnitude in CPython's re (measured: 0.4 MB/s -> tens of MB/s).
        self.literals = sorted({a.lower() for s in self.specs for a in s.keywords}
                               | {a.lower() for a in BUILTIN_ANCHORS} | set(KEYWORDS))
        self._settings = {
            "plugins_used": [{"name": s.class_name, "path": f"file://{PLUGIN_FILE}"} for s in self.specs]
            + [{"name": name} for name in BUILTIN_PLUGINS],
            "filters_used": [{"path": p} for p in FILTERS],
        }
        self._order = {s.secret_type: i for i, s in enumerate(self.specs)}
        # our plugins' keywords (lower case); a spec without keywords runs on every candidate line
        self._words = {s.class_name: tuple(k.lower() for k in s.keywords) for s in self.specs if s.keywords}
        self.generic = frozenset({"Secret Keyword"} | {s.secret_type for s in self.specs if s.generic})
        self._plugins: list[Any] = []
        self._depth = 0
        self.noise = Noise.load()
        self.dropped: dict[str, int] = {}

    @staticmethod
    def _uuid_like(value: str) -> bool:
        from detect_secrets.filters.heuristic import is_potential_uuid

        return is_potential_uuid(value)

    # ------------------------------------------------------------------ the prefilter
    @property
    def matcher(self) -> Matcher:
        """The compiled prefilter over every plugin's regexes (built on first use; Hyperscan's
        is kept in the user's cache, so worker processes and later runs load it)."""
        if self._matcher is None:
            with self.session():
                self._names = [type(p).__name__ for p in self._plugins]
                rules = [Rule(i, rx.pattern, rx.flags) for i, plugin in enumerate(self._plugins)
                         for rx in plugin_regexes(plugin)]
            self._matcher = build(rules, self.engine_name, self.literals)
        return self._matcher

    def candidates(self, text: str) -> dict[int, dict[int, list[tuple[int, int]]]]:
        """line (1-based) -> plugin index -> (start, end) of each match on that line, relative
        to the line's start (-1 where not known: Hyperscan reports ends only)."""
        spans = self.matcher.spans(text)
        if not spans:
            return {}
        spans.sort(key=lambda t: t[2])
        out: dict[int, dict[int, list[tuple[int, int]]]] = {}
        line, pos, line_start = 1, 0, 0  # the line holding offset ``pos``, and where it starts
        for owner, start, end in spans:
            last = max(end - 1, 0)  # the match's last character: on the line the match is on
            n = text.count("\n", pos, last)
            if n:
                line += n
                line_start = text.rfind("\n", pos, last) + 1
            pos = last
            out.setdefault(line, {}).setdefault(owner, []).append(
                (start - line_start if start >= line_start else -1, end - line_start))
            if 0 <= start < line_start:  # a span over several lines (re, re2): each line it touches
                for ln in range(line - text.count("\n", start, line_start), line):
                    out.setdefault(ln, {}).setdefault(owner, []).append((-1, -1))
        return out

    def _kept(self, line: str) -> bool:
        low = line.lower()
        return any(literal in low for literal in self.literals)

    def _pieces(self, line: str, spans: list[tuple[int, int]]) -> list[str]:
        """The parts of a line the plugins are shown: all of it, or for a line longer than
        LONG_LINE the stretch before each match end, widened to the start of the word it
        sits in (a cut inside a key must not make a new ``\\b``)."""
        if len(line) <= LONG_LINE or any(end < 0 for _, end in spans):
            return [line]
        cuts: list[list[int]] = []
        for start, end in sorted(spans, key=lambda t: t[1]):
            lo = max(0, (start if start >= 0 else end) - BACK)
            stop = max(0, lo - WORD)
            while lo > stop and (line[lo - 1].isalnum() or line[lo - 1] in "_-+/="):
                lo -= 1
            hi = min(len(line), end + AHEAD)
            if cuts and lo <= cuts[-1][1]:
                cuts[-1][1] = max(cuts[-1][1], hi)
            else:
                cuts.append([lo, hi])
        return [line[a:b] for a, b in cuts]

    @staticmethod
    def _unescaped(pieces: list[str]) -> list[str]:
        """The pieces, then each piece holding escaped quotes with its quotes unescaped: an
        assignment inside an escaped string (a JSON document logged as a string,
        ``"{\\"password\\": \\"...\\"}"``, a quoted string in code) is still an assignment, and the
        value found is the secret itself, not its escaped spelling."""
        return pieces + [p.replace('\\"', '"').replace("\\'", "'") for p in pieces if '\\"' in p or "\\'" in p]

    def scan_text(self, filename: str, text: str) -> list[Hit]:
        """Hits in ``text`` (line numbers relative to its first line)."""
        return self.scan_text_lines(filename, text)[0]

    def scan_text_lines(self, filename: str, text: str) -> tuple[list[Hit], list[str]]:
        """Hits in ``text``, and its lines when there were candidates (else [], not split). A
        Kubernetes Secret's base64 ``data:`` values are decoded and scanned too."""
        found = self.candidates(text)
        if '\\"' in text or "\\'" in text:
            # what the prefilter sees once escaped quotes are unescaped (scan_lines unescapes the
            # same lines): only the match ends are kept, which on a line over LONG_LINE may sit a
            # few characters early, by the backslashes removed before them
            plain = text.replace('\\"', '"').replace("\\'", "'")
            for n, owners in self.candidates(plain).items():
                merged = found.setdefault(n, {})
                for owner, spans in owners.items():
                    merged.setdefault(owner, []).extend((-1, end) for _, end in spans)
        hits: list[Hit] = []
        lines: list[str] = []
        if found:
            lines = split_lines(text)
            hits = self.scan_lines(filename, lines, found)
        if "kind: Secret" in text and "data:" in text:
            decoded = self.scan_k8s_data(filename, text, {(h.line, h.value) for h in hits})
            if decoded:
                at = {h.line for h in decoded}  # the decoded value names the secret better than its base64
                hits = sorted([h for h in hits if h.line not in at or h.secret_type not in self.generic] + decoded,
                              key=lambda h: (h.line, self._rank(h)))
                lines = lines or split_lines(text)
        return hits, lines

    def scan_lines(self, filename: str, lines: list[str], which: Mapping[int, Mapping[int, list[tuple[int, int]]]],
                   offset: int = 0) -> list[Hit]:
        """Run detect-secrets on ``lines``: the plugins ``which`` names per 1-based line number
        (``candidates``), on the lines that hold a prefilter literal, and on long lines only
        around their matches. ``offset`` is added to reported line numbers. One hit per
        (line, value): ours before built-ins."""
        from detect_secrets.core.scan import _is_filtered_out, _scan_line
        from detect_secrets.util.code_snippet import get_code_snippet

        found: dict[tuple[int, str], Hit] = {}
        # values one of our detectors judged noise: a built-in's generic hit on them is noise too
        floored: set[tuple[int, str]] = set()
        name = filename.lower()
        with self.session():
            plugins = self._plugins
            for n in sorted(which):
                if not 0 < n <= len(lines):
                    continue
                full = lines[n - 1].rstrip("\r\n")
                asked = which[n]
                spans = [sp for owner_spans in asked.values() for sp in owner_spans]
                for line in self._unescaped(self._pieces(full, spans)):
                    if not self._kept(line):
                        continue
                    snippet = get_code_snippet(lines=lines, line_number=n)
                    if _is_filtered_out(required_filter_parameters=["line"], filename=filename, line=line,
                                        context=snippet):
                        continue
                    low = line.lower()
                    for index in sorted(asked):
                        plugin = plugins[index]
                        words = self._words.get(type(plugin).__name__)
                        if words is not None and not any(w in low for w in words):
                            continue  # one of ours whose keywords are not on this line cannot match it
                        for secret in _scan_line(plugin=plugin, filename=filename, line=line, line_number=n,
                                                 context=snippet):
                            value = secret.secret_value or ""
                            if not value or _is_filtered_out(required_filter_parameters=["context"],
                                                             filename=filename, secret=value, plugin=plugin,
                                                             line=line, context=snippet):
                                continue
                            hit = self._hit(secret.type, value, n + offset, plugin, lines, n)
                            if hit is None:
                                continue
                            generic = hit.secret_type in self.generic
                            why = self.noise.reason(value, line, hit.ours and not generic,
                                                    self.floor(hit.secret_type), generic)
                            spec = self.by_type.get(hit.secret_type)
                            if why in (WEAK, CODE) and spec is not None and spec.weak_values:
                                why = None  # reported, and marked a likely fixture (fixtures.value_reason)
                            if why is None and spec is not None and spec.variables_in and name.endswith(
                                    spec.variables_in) and _IDENTIFIER.fullmatch(value):
                                why = VARIABLE
                            if why is not None:
                                self.dropped[why] = self.dropped.get(why, 0) + 1
                                if hit.ours and not generic:  # a shape's verdict never vetoes a format
                                    floored.add((hit.line, value))
                                continue
                            key = (hit.line, hit.value)
                            old = found.get(key)
                            if old is None or self._rank(hit) < self._rank(old):
                                found[key] = hit
        dropped_at: dict[int, list[str]] = {}
        for n, v in floored:
            dropped_at.setdefault(n, []).append(v)
        hits = [h for h in found.values() if (h.ours and h.secret_type not in self.generic) or not any(
            v in h.value or h.value in v for v in dropped_at.get(h.line, ()))]
        return self._collapse(hits)

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """detect-secrets' settings and plugins, set up once for a whole scan: building them
        per file cost ~35 ms a file, more than the scanning itself. Re-entrant."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        from detect_secrets.settings import get_plugins, transient_settings

        with transient_settings(self._settings):
            get_mapping_from_secret_type_to_class.cache_clear()  # trap 2: lru_cache survives settings
            self._plugins = get_plugins()
            self._depth = 1
            try:
                yield
            finally:
                self._depth = 0
                self._plugins = []
                get_mapping_from_secret_type_to_class.cache_clear()

    def floor(self, secret_type: str) -> float | None:
        """The entropy floor of a detector: ours from its spec, built-ins from ``noise.min_entropy``."""
        spec = self.by_type.get(secret_type)
        return spec.min_entropy if spec is not None else self.noise.min_entropy.get(secret_type)

    def _rank(self, hit: Hit) -> int:
        if hit.secret_type in self.generic:  # a shape loses to any format, typed built-ins included
            return 1200 + self._order.get(hit.secret_type, 300)
        return self._order.get(hit.secret_type, 1000)

    def _collapse(self, hits: list[Hit]) -> list[Hit]:
        """A keyword or generic hit whose value contains a typed hit on the same line is the same
        secret; so are two generic hits of which one holds the other. Compared line by line: a
        log of 20,000 secret lines is linear, not 20,000 squared."""
        by_line: dict[int, list[Hit]] = {}
        for h in hits:
            by_line.setdefault(h.line, []).append(h)
        out = []
        for same in by_line.values():
            typed = [h for h in same if h.secret_type not in self.generic]
            ours = [h for h in typed if h.ours]
            for h in same:
                if h.secret_type in self.generic and any(t.value in h.value or h.value in t.value for t in typed):
                    continue
                if h.secret_type in self.generic and any(
                        g is not h and g.secret_type in self.generic
                        and (h.value in g.value or g.value in h.value) and self._generic_beats(g, h) for g in same):
                    continue
                if not h.ours and any(h.value in t.value for t in ours):
                    continue  # a built-in plugin matched part of one of our keys
                out.append(h)
        return sorted(out, key=lambda h: (h.line, self._rank(h)))

    def _generic_beats(self, g: Hit, h: Hit) -> bool:
        """Of two overlapping generic hits, the better-ranked detector wins (our context detectors
        name the part that is the secret: the password of a connection string, not the whole
        string a keyword hit took); at equal rank the longer value does."""
        if self._rank(g) != self._rank(h):
            return self._rank(g) < self._rank(h)
        return len(g.value) > len(h.value)

    def _hit(self, secret_type: str, value: str, line_no: int, plugin: Any, lines: list[str], n: int) -> Hit | None:
        if secret_type in PEM_KEY_TYPES and not _PEM_BODY.search(
                lines[n - 1][lines[n - 1].find("PRIVATE KEY"):] + "".join(lines[n:n + 3])):
            return None  # a PEM header without a body (within 3 lines): a marker string in code, not a key
        spec = self.by_type.get(secret_type)
        if spec is not None:
            near = self._near.get(secret_type)
            if near is not None:
                lo, hi = max(0, n - 1 - spec.near_lines), min(len(lines), n + spec.near_lines)
                if not near.search("".join(lines[lo:hi])):
                    return None
            return Hit(line_no, secret_type, value, spec.label, spec.provider, spec.agent_related, True)
        if len(value) < 8 and secret_type not in PEM_KEY_TYPES or (
                secret_type not in UUID_FORMATS and self._uuid_like(value)):
            return None
        meta = BUILTIN_PLUGINS.get(type(plugin).__name__, {"label": secret_type, "provider": "",
                                                           "agent_related": False})
        return Hit(line_no, secret_type, value, meta["label"], meta["provider"], meta["agent_related"], False)

    def scan_k8s_data(self, filename: str, text: str, seen: set[tuple[int, str]]) -> list[Hit]:
        """A Kubernetes Secret's ``data:`` values are base64: each decoded value is scanned as
        ``NAME=value`` on its own line number, so a Datadog key or a password stored there is
        found by the same detectors (and fingerprinted as the secret itself, not its encoding)."""
        out: list[Hit] = []
        for n, name, value in k8s_data_values(text):
            line = f"{name}={value}\n"
            if not any(literal in line.lower() for literal in self.literals):
                continue
            which = self.candidates(line)
            if which:
                out += [h for h in self.scan_lines(filename, [line], which, offset=n - 1)
                        if (h.line, h.value) not in seen]
        return out


_PEM_BODY = re.compile(r"[A-Za-z0-9+/]{16,}")
#: Hits that are a PEM private key block: the secret is the block's body (filescan), and a
#: header with no body near it is a marker string in code. detect-secrets' PrivateKeyDetector
#: finds the plain kinds; our detector "pem-encrypted-private-key" the PKCS#8 encrypted one and
#: "pem-private-key-other-label" every other label (ED25519, "... PRIVATE KEY BLOCK").
PEM_KEY_TYPES = ("Private Key", "Encrypted Private Key", "PEM Private Key")
#: Built-in plugins whose format is a UUID where they match, so the UUID filter must not drop
#: them: NpmDetector's ``//registry/:_authToken=<uuid>`` is npm's legacy token (its own pattern
#: lists the 36-character form).
UUID_FORMATS = ("NPM tokens",)
#: A PEM private key base64-encoded once more (detector "base64-pem-private-key"): fingerprinted
#: by the decoded block's body (filescan), so it is the same secret as its plain PEM form.
BASE64_PEM_TYPE = "Base64 PEM Private Key"
_K8S_DATA = re.compile(r"^(\s*)data:\s*$")
_K8S_ITEM = re.compile(r"^(\s+)([A-Za-z0-9_.-]+):\s*[\"']?([A-Za-z0-9+/]{8,}={0,2})[\"']?\s*$")


def k8s_data_values(text: str) -> Iterator[tuple[int, str, str]]:
    """(line, key, decoded value) of each base64 value under a ``data:`` mapping of a Kubernetes
    Secret manifest; values that do not decode to one line of text are skipped."""
    indent: int | None = None
    for n, line in enumerate(text.splitlines(), 1):
        m = _K8S_DATA.match(line)
        if m:
            indent = len(m.group(1))
            continue
        if indent is None:
            continue
        item = _K8S_ITEM.match(line)
        if not item or len(item.group(1)) <= indent:
            if line.strip() and not line.startswith(" " * (indent + 1)):
                indent = None
            continue
        try:
            value = base64.b64decode(item.group(3), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        if value.strip() and "\n" not in value.strip() and value.isprintable():
            yield n, item.group(2), value.strip()


def iter_values_matching(specs: tuple[DetectorSpec, ...], value: str) -> Iterator[DetectorSpec]:
    """Our detectors whose pattern matches inside ``value`` (used on MCP env values)."""
    for spec in specs:
        if re.search(spec.pattern, value):
            yield spec
