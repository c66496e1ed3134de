"""The multi-pattern prefilter: every detector's regex, matched over a whole file at once.

detect-secrets dispatches each line to each plugin through Python (test-infra.md 4.3: ~450x
slower than one compiled pass), so it is only asked about the lines where one of its plugins'
own regexes could match. Those lines come from one pass of an engine built for many patterns:

- ``hyperscan`` (Intel Hyperscan / Vectorscan): every rule in one database, compiled in
  prefilter mode (lookarounds and other constructs it lacks are relaxed, so it reports a
  superset of the matches, never fewer); match end offsets come back through one callback.
- ``re2`` (google-re2): a ``re2.Set`` says which rules match anywhere in the text, then each of
  those is run alone for its spans. Lookarounds are removed and repeat counts past RE2's
  limit relaxed (both only widen a pattern); what RE2 still refuses runs on Python's ``re``.
- ``re``: Python's ``re`` per rule, the fallback where neither installs.

Hyperscan and RE2 see an ASCII image of the text, one byte per character, so their offsets
are character offsets into the text: non-ASCII characters become ``a`` (word characters),
``0`` (digits), a space (whitespace, as Python's ``\\s`` counts it) or ``~``; ``\\r\\n``
becomes ``\\n\\n`` so ``$`` matches where Python's per-line ``$`` does. That keeps the
engines' byte semantics a superset of Python's Unicode ``\\s``, ``\\w`` and ``\\b``.
"""

from __future__ import annotations

import bisect
import codecs
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

ENGINES = ("hyperscan", "re2", "re")
MAX_MATCHES = 1_000_000  # per text: past this the scan stops and says so (TooManyMatches)


@dataclass(frozen=True)
class Rule:
    """One regex of one detector (``owner`` indexes the detector the caller runs on a hit)."""

    owner: int
    pattern: str
    flags: int = 0  # re.IGNORECASE / re.DOTALL / re.MULTILINE as compiled by the detector


class TooManyMatches(RuntimeError):
    """A text produced more prefilter matches than MAX_MATCHES (a hostile file)."""


class _Translit(dict):
    """str.translate table for the ASCII image, filled lazily per code point."""

    def __missing__(self, cp: int) -> int:
        c = chr(cp)
        if cp < 0x80 and not 0x1C <= cp <= 0x1F:
            out = c
        elif c.isspace():
            out = " "
        elif c.isdigit():
            out = "0"
        elif len(c.lower()) == 1 and c.lower().isascii():  # KELVIN SIGN → k: what re.I folds it to
            out = c.lower()
        elif len(c.upper()) == 1 and c.upper().isascii():
            out = c.upper()
        elif c.isalnum() or c == "_":
            out = "a"
        else:
            out = "~"
        self[cp] = ord(out)
        return ord(out)


_TRANSLIT = _Translit()


def _to_ascii(exc: UnicodeError) -> tuple[str, int]:
    """Encoding error handler: each non-ASCII character as its one ASCII stand-in (ASCII text
    around it is copied at C speed, which str.translate does not do)."""
    assert isinstance(exc, UnicodeEncodeError)
    run = exc.object[exc.start:exc.end]
    return "".join(chr(_TRANSLIT[ord(c)]) for c in run), exc.end


codecs.register_error("agentreach-ascii-image", _to_ascii)


def ascii_image(text: str) -> str:
    """The text as the byte engines see it: same length, same line starts, ASCII only."""
    if not text.isascii():
        text = text.encode("ascii", "agentreach-ascii-image").decode("ascii")
    if any(c in text for c in "\x1c\x1d\x1e\x1f"):
        text = text.translate(_TRANSLIT)
    return text.replace("\r\n", "\n\n") if "\r" in text else text


def relax(pattern: str) -> str:
    """A pattern RE2 can compile that matches at least what ``pattern`` matches: lookaround
    groups dropped (an assertion removed only widens), a backreference read as any text,
    repeat bounds past 1000 opened."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            out.append("(?s:.*?)" if pattern[i + 1:i + 2].isdigit() and pattern[i + 1] != "0" else pattern[i:i + 2])
            i += 2
        elif c == "[":
            j = _class_end(pattern, i)
            out.append(pattern[i:j])
            i = j
        elif pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            i = _group_end(pattern, i)
        else:
            out.append(c)
            i += 1
    return re.sub(r"\{(\d+),(\d{4,})\}", lambda m: f"{{{m.group(1)},}}" if int(m.group(2)) > 1000 else m.group(0),
                  "".join(out))


def _class_end(p: str, i: int) -> int:
    j = i + 1
    if j < len(p) and p[j] == "^":
        j += 1
    if j < len(p) and p[j] == "]":
        j += 1
    while j < len(p) and p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    return j + 1


def _group_end(p: str, i: int) -> int:
    depth, j = 0, i
    while j < len(p):
        c = p[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = _class_end(p, j)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return j


# ---------------------------------------------------------------------------- engines

class Matcher:
    """All rules at once over one text: ``spans(text)`` -> [(owner, start, end)], where
    ``start`` is -1 when the engine knows only where a match ends (Hyperscan)."""

    name = "re"

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    def spans(self, text: str) -> list[tuple[int, int, int]]:
        raise NotImplementedError


class _Reduced:
    """The lines of a text that hold one of the literals, joined: the slower engines run over
    this instead of the whole text (a line without any literal is never a candidate anyway).
    ``back`` maps spans in it to spans of the text, one per line they touch."""

    def __init__(self, text: str, literals: list[str], finder: Any = None) -> None:
        image = ascii_image(text)
        low = image.lower()  # ASCII: same length
        starts: set[int] = set()
        if finder is not None:  # one compiled alternation of the literals (RE2)
            for m in finder.finditer(low.encode("ascii")):
                starts.add(low.rfind("\n", 0, m.start()) + 1)
        else:  # substring search per literal: far faster than an alternation in Python's re
            for literal in literals:
                i = low.find(literal)
                while i != -1:
                    starts.add(low.rfind("\n", 0, i) + 1)
                    nl = low.find("\n", i)
                    i = -1 if nl == -1 else low.find(literal, nl + 1)
        self.origin: list[int] = []  # where each kept line starts in the text
        self.at: list[int] = []  # where it starts in the reduced text
        parts: list[str] = []
        pos = 0
        for start in sorted(starts):
            end = image.find("\n", start)
            end = len(image) if end == -1 else end
            self.origin.append(start)
            self.at.append(pos)
            parts.append(image[start:end])
            pos += end - start + 1
        self.image = "\n".join(parts)
        self.text = "\n".join(text[o:o + len(p)] for o, p in zip(self.origin, parts, strict=True))

    def back(self, owner: int, start: int, end: int) -> Iterator[tuple[int, int, int]]:
        k = bisect.bisect_right(self.at, start) - 1
        while k < len(self.at) and self.at[k] <= max(start, end - 1):
            line_end = self.at[k + 1] - 1 if k + 1 < len(self.at) else len(self.image)
            lo, hi = max(start, self.at[k]), min(end, line_end)
            yield owner, self.origin[k] + lo - self.at[k], self.origin[k] + hi - self.at[k]
            k += 1


class ReMatcher(Matcher):
    """Python's ``re``, one rule at a time over the lines holding a literal: exact, slowest."""

    name = "re"

    def __init__(self, rules: list[Rule], literals: list[str]) -> None:
        super().__init__(rules)
        self._compiled = [re.compile(r.pattern, r.flags | re.MULTILINE) for r in rules]
        self._literals = literals

    def spans(self, text: str) -> list[tuple[int, int, int]]:
        reduced = _Reduced(text, self._literals)
        return self.reduced_spans(reduced)

    def reduced_spans(self, reduced: _Reduced) -> list[tuple[int, int, int]]:
        image = reduced.text.replace("\r\n", "\n\n") if "\r" in reduced.text else reduced.text
        out: list[tuple[int, int, int]] = []
        for rule, rx in zip(self.rules, self._compiled, strict=True):
            for m in rx.finditer(image):
                out.extend(reduced.back(rule.owner, m.start(), m.end()))
                if len(out) > MAX_MATCHES:
                    raise TooManyMatches(f"more than {MAX_MATCHES} prefilter matches")
        return out


class Re2Matcher(Matcher):
    """google-re2 over the lines holding a literal: a Set over every rule says which match,
    then each of those alone for its spans."""

    name = "re2"

    def __init__(self, rules: list[Rule], literals: list[str]) -> None:
        import re2

        super().__init__(rules)
        options = re2.Options()
        options.log_errors = False
        options.max_mem = 256 << 20  # room for the DFA: past it RE2 falls back to its slow NFA
        self._set = re2.Set.SearchSet(options)
        self._each: list[Any] = []
        fallback: list[Rule] = []
        self._in_set: list[int] = []
        for i, rule in enumerate(rules):
            source = _inline(relax(rule.pattern), rule.flags | re.MULTILINE).encode("ascii")
            try:
                rx = re2.compile(source, options)
                self._set.Add(source)
            except re2.error:
                fallback.append(rule)
                continue
            self._each.append(rx)
            self._in_set.append(i)
        self._set.Compile()
        self._literals = literals
        self._finder = re2.compile("|".join(re.escape(w) for w in literals).encode("ascii"), options)
        self._fallback = ReMatcher(fallback, literals) if fallback else None

    def spans(self, text: str) -> list[tuple[int, int, int]]:
        reduced = _Reduced(text, self._literals, self._finder)
        image = reduced.image.replace("\r\n", "\n\n") if "\r" in reduced.image else reduced.image
        data = image.encode("ascii")
        out: list[tuple[int, int, int]] = []
        for k in self._set.Match(data) or ():
            owner = self.rules[self._in_set[k]].owner
            for m in self._each[k].finditer(data):
                out.extend(reduced.back(owner, m.start(), m.end()))
                if len(out) > MAX_MATCHES:
                    raise TooManyMatches(f"more than {MAX_MATCHES} prefilter matches")
        if self._fallback is not None:
            out.extend(self._fallback.reduced_spans(reduced))
        return out


class HyperscanMatcher(Matcher):
    """Hyperscan: one database of every rule in prefilter mode, one pass per text."""

    name = "hyperscan"

    def __init__(self, rules: list[Rule], cache: Path | None = None) -> None:
        import hyperscan

        super().__init__(rules)
        self._hs = hyperscan
        expressions = [_ascii_pattern(r.pattern).encode("ascii") for r in rules]
        flags = []
        for r in rules:
            f = hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY | hyperscan.HS_FLAG_MULTILINE
            if r.flags & re.IGNORECASE:
                f |= hyperscan.HS_FLAG_CASELESS
            if r.flags & re.DOTALL:
                f |= hyperscan.HS_FLAG_DOTALL
            flags.append(f)
        key = hashlib.sha256(repr((getattr(hyperscan, "__version__", ""), expressions, flags)).encode()).hexdigest()
        path = cache / f"prefilter-{key[:32]}.hs" if cache is not None else None
        self.db = self._load_file(path)
        if self.db is None:
            self.db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self.db.compile(expressions=expressions, ids=list(range(len(rules))), elements=len(rules), flags=flags)
            if path is not None:
                _write_atomically(path, self.serialize())
        self._scratch = hyperscan.Scratch(self.db)
        self._owner = [r.owner for r in rules]

    def serialize(self) -> bytes:
        return bytes(self._hs.dumpb(self.db))

    def _load(self, data: bytes) -> Any:
        try:
            return self._hs.loadb(data, self._hs.HS_MODE_BLOCK)
        except Exception:  # noqa: BLE001 - another Hyperscan version or CPU: compile instead
            return None

    def _load_file(self, path: Path | None) -> Any:
        """The database compiled by an earlier run (compiling costs ~0.5 s a process)."""
        if path is None:
            return None
        try:
            return self._load(path.read_bytes())
        except OSError:
            return None

    def spans(self, text: str) -> list[tuple[int, int, int]]:
        data = ascii_image(text).encode("ascii")
        out: list[tuple[int, int, int]] = []
        owner = self._owner

        def on_match(rule: int, _start: int, end: int, _flags: int, _ctx: Any) -> bool | None:
            out.append((owner[rule], -1, end))
            return True if len(out) > MAX_MATCHES else None

        try:
            self.db.scan(data, match_event_handler=on_match, scratch=self._scratch)
        except self._hs.ScanTerminated:
            raise TooManyMatches(f"more than {MAX_MATCHES} prefilter matches") from None
        return out


def _write_atomically(path: Path, data: bytes) -> None:
    """Best effort: a cache that cannot be written is only slower."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".prefilter-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        return


def _ascii_pattern(pattern: str) -> str:
    """The pattern as it must read against the ASCII image: its non-ASCII characters
    translated the way the text's are (``contraseña`` → ``contraseaa``)."""
    return pattern if pattern.isascii() else pattern.translate(_TRANSLIT)


def _inline(pattern: str, flags: int) -> str:
    """Python flags as an inline group RE2 understands."""
    letters = "".join(c for f, c in ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s")) if flags & f)
    return f"(?{letters}){_ascii_pattern(pattern)}" if letters else _ascii_pattern(pattern)


def available() -> list[str]:
    """The engines that import here, fastest first."""
    out = []
    for name, module in (("hyperscan", "hyperscan"), ("re2", "re2")):
        try:
            __import__(module)
            out.append(name)
        except ImportError:
            continue
    return out + ["re"]


def cache_dir() -> Path | None:
    """Where compiled prefilters are kept between runs (the user's cache directory)."""
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("agentreach"))
    except Exception:  # noqa: BLE001 - no cache is only slower
        return None


def build(rules: Iterable[Rule], engine: str = "auto", literals: Iterable[str] = ()) -> Matcher:
    """The matcher for ``engine`` (``auto``: the fastest that imports). ``literals`` (lower
    case): the slower engines look only at lines holding one."""
    rules = list(rules)
    name = available()[0] if engine == "auto" else engine
    if name not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (one of auto, {', '.join(ENGINES)})")
    if name == "hyperscan":
        return HyperscanMatcher(rules, cache_dir())
    words = sorted({_ascii_pattern(w).lower() for w in literals})
    if name == "re2":
        return Re2Matcher(rules, words)
    return ReMatcher(rules, words)
