"""Reads the literal data of Go test files without a Go toolchain: a tokenizer with Go's
semicolon rule, and an evaluator for the few expression forms TruffleHog's detector tests build
their inputs with (string literals, ``+``, package and local names, ``fmt.Sprintf`` with plain
verbs, ``strings.Repeat`` / ``Join``, ``[]string{...}``, ``detectors.PrefixRegex``). Anything else
raises ``Unreadable``: a case that cannot be read literally is skipped and counted, never guessed.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Callable, Iterator

_TOKEN = re.compile(r"""
 (?P<ws>[ \t\r\f]+)
|(?P<nl>\n)
|(?P<lc>//[^\n]*)
|(?P<bc>/\*.*?\*/)
|(?P<raw>`[^`]*`)
|(?P<str>"(?:[^"\\\n]|\\.)*")
|(?P<rune>'(?:[^'\\\n]|\\.)+')
|(?P<num>(?:0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d*)?))
|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
|(?P<op>:=|\.\.\.|&&|\|\||==|!=|<=|>=|<-|\+\+|--|\+=|[-+*/%&|^<>=!(){}\[\],;:.~])
|(?P<other>.)
""", re.S | re.X)

_ENDS_STATEMENT = {"ident", "num", "str", "raw", "rune"}
_ENDS_OPS = {")", "]", "}", "++", "--"}


class Unreadable(Exception):
    """An expression this reader does not evaluate (the message says what)."""


@dataclass(frozen=True)
class Tok:
    kind: str  # ident | num | str | raw | rune | op
    value: str
    line: int


def tokenize(text: str) -> list[Tok]:
    """Go tokens, comments dropped, with the semicolons Go inserts at line ends."""
    out: list[Tok] = []
    line = 1

    def newline() -> None:
        if out and (out[-1].kind in _ENDS_STATEMENT or (out[-1].kind == "op" and out[-1].value in _ENDS_OPS)):
            out.append(Tok("op", ";", line))

    for m in _TOKEN.finditer(text):
        kind, value = m.lastgroup or "other", m.group(0)
        if kind == "nl" or (kind == "bc" and "\n" in value):
            newline()
        elif kind in ("ws", "lc", "bc"):
            pass
        else:
            out.append(Tok(kind, value, line))
        line += value.count("\n")
    newline()
    return out


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"',
            "'": "'"}


def decode_string(tok: Tok) -> str:
    """The value of a Go string literal (raw strings drop carriage returns, as Go does)."""
    if tok.kind == "raw":
        return tok.value[1:-1].replace("\r", "")
    body, out, i = tok.value[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        e = body[i + 1]
        if e in _ESCAPES:
            out += _ESCAPES[e].encode()
            i += 2
        elif e == "x":
            out.append(int(body[i + 2:i + 4], 16))
            i += 4
        elif e in "uU":
            n = 4 if e == "u" else 8
            out += chr(int(body[i + 2:i + 2 + n], 16)).encode()
            i += 2 + n
        elif e in "01234567":
            out.append(int(body[i + 1:i + 4], 8))
            i += 4
        else:
            raise Unreadable(f"escape \\{e}")
    try:
        return out.decode()
    except UnicodeDecodeError as exc:
        raise Unreadable("a string literal that is not UTF-8") from exc


def matching(toks: list[Tok], i: int) -> int:
    """Index of the bracket closing the one at ``i``."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    want, depth = pairs[toks[i].value], 0
    opener = toks[i].value
    for j in range(i, len(toks)):
        v = toks[j].value if toks[j].kind == "op" else ""
        if v == opener:
            depth += 1
        elif v == want:
            depth -= 1
            if depth == 0:
                return j
    raise Unreadable("unbalanced brackets")


def split_top(toks: list[Tok], i: int, j: int, sep: str = ",") -> list[tuple[int, int]]:
    """Ranges of ``toks[i:j]`` split at ``sep`` outside brackets (empty parts dropped)."""
    out, depth, start = [], 0, i
    for k in range(i, j):
        v = toks[k].value if toks[k].kind == "op" else ""
        if v and v in "([{":
            depth += 1
        elif v and v in ")]}":
            depth -= 1
        elif v == sep and depth == 0:
            out.append((start, k))
            start = k + 1
    out.append((start, j))
    return [(a, b) for a, b in out if a < b and not (b - a == 1 and toks[a].value == ";")]


# ---------------------------------------------------------------------------- expressions

Value = str | int | bool | list | None
Env = Callable[[str], Value]


def _sprintf(fmt: str, args: list[Value]) -> str:
    out, n = [], 0
    for m in re.finditer(r"%([-+# 0]*)(\d*)(?:\.(\d+))?([a-zA-Z%])|[^%]+|%", fmt):
        if not m.group(0).startswith("%") or m.group(0) == "%":
            if m.group(0) == "%":
                raise Unreadable("a lone % in a format")
            out.append(m.group(0))
            continue
        flags, width, _, verb = m.groups()
        if verb == "%":
            out.append("%")
            continue
        if n >= len(args):
            raise Unreadable("fmt.Sprintf with too few arguments")
        a = args[n]
        n += 1
        if verb in "sv" and isinstance(a, (str, int)) and not isinstance(a, bool):
            s = str(a)
        elif verb == "d" and isinstance(a, int) and not isinstance(a, bool):
            s = str(a)
        elif verb == "q" and isinstance(a, str):
            s = '"' + a.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        else:
            raise Unreadable(f"fmt.Sprintf verb %{verb}")
        if width:
            s = s.ljust(int(width)) if "-" in flags else s.rjust(int(width), "0" if "0" in flags else " ")
        out.append(s)
    if n != len(args):
        raise Unreadable("fmt.Sprintf with extra arguments")
    return "".join(out)


def prefix_regex(keywords: list[str]) -> str:
    """TruffleHog's ``detectors.PrefixRegex``: a keyword, then up to 40 characters."""
    return "(?i:" + "|".join(keywords) + ")(?:.|[\\n\\r]){0,40}?"


_CALLS: dict[str, Callable[[list[Value]], Value]] = {
    "fmt.Sprintf": lambda a: _sprintf(_str(a[0]), a[1:]),
    "fmt.Sprint": lambda a: "".join(_str(x) for x in a),
    "strings.Repeat": lambda a: _str(a[0]) * _int(a[1]),
    "strings.Join": lambda a: _str(a[1]).join(_strs(a[0])),
    "strings.ToLower": lambda a: _str(a[0]).lower(),
    "strings.ToUpper": lambda a: _str(a[0]).upper(),
    "strings.TrimSpace": lambda a: _str(a[0]).strip(),
    "string": lambda a: _str(a[0]),
    "[]byte": lambda a: _str(a[0]),
    "base64.StdEncoding.EncodeToString": lambda a: base64.b64encode(_str(a[0]).encode()).decode(),
    "base64.RawStdEncoding.EncodeToString": lambda a: base64.b64encode(_str(a[0]).encode()).decode().rstrip("="),
    "base64.URLEncoding.EncodeToString": lambda a: base64.urlsafe_b64encode(_str(a[0]).encode()).decode(),
    "base64.RawURLEncoding.EncodeToString":
        lambda a: base64.urlsafe_b64encode(_str(a[0]).encode()).decode().rstrip("="),
    "detectors.PrefixRegex": lambda a: prefix_regex(_strs(a[0])),
}


def _str(v: Value) -> str:
    if not isinstance(v, str):
        raise Unreadable(f"expected a string, got {type(v).__name__}")
    return v


def _int(v: Value) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise Unreadable("expected an integer")
    return v


def _strs(v: Value) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise Unreadable("expected a []string")
    return v


class Evaluator:
    """Evaluates ``toks[i:j]`` as one Go expression, names resolved through ``env``."""

    def __init__(self, toks: list[Tok], env: Env) -> None:
        self.toks, self.env = toks, env

    def value(self, i: int, j: int) -> Value:
        v, k = self._sum(i, j)
        if k != j:
            raise Unreadable(f"unexpected {self.toks[k].value!r}")
        return v

    def _op(self, k: int, j: int, value: str) -> bool:
        return k < j and self.toks[k].kind == "op" and self.toks[k].value == value

    def _sum(self, i: int, j: int) -> tuple[Value, int]:
        v, k = self._primary(i, j)
        while self._op(k, j, "+"):
            w, k = self._primary(k + 1, j)
            if isinstance(v, str) and isinstance(w, str):
                v = v + w
            elif isinstance(v, int) and isinstance(w, int):
                v = v + w
            else:
                raise Unreadable("+ of mixed types")
        if k < j and self.toks[k].kind == "op" and self.toks[k].value in {"-", "*", "/", "%", "|", "&", "^"}:
            raise Unreadable(f"operator {self.toks[k].value}")
        return v, k

    def _args(self, k: int, j: int) -> tuple[list[Value], int]:
        end = matching(self.toks, k)
        if end >= j:
            raise Unreadable("unbalanced call")
        return [self.value(a, b) for a, b in split_top(self.toks, k + 1, end)], end + 1

    def _composite(self, k: int, j: int) -> tuple[list[Value], int]:
        """``{a, b, ...}`` of a []string, or the keys of ``{"k": {...}, ...}`` (a set-like map)."""
        end = matching(self.toks, k)
        out: list[Value] = []
        for a, b in split_top(self.toks, k + 1, end):
            parts = split_top(self.toks, a, b, ":")
            out.append(self.value(*parts[0]))
        return out, end + 1

    def _primary(self, i: int, j: int) -> tuple[Value, int]:
        if i >= j:
            raise Unreadable("an empty expression")
        t = self.toks[i]
        if t.kind in ("str", "raw"):
            return decode_string(t), i + 1
        if t.kind == "num":
            try:
                return int(t.value.replace("_", ""), 0), i + 1
            except ValueError as exc:
                raise Unreadable(f"number {t.value}") from exc
        if self._op(i, j, "("):
            end = matching(self.toks, i)
            return self.value(i + 1, end), end + 1
        if self._op(i, j, "[") and self._op(i + 1, j, "]"):
            k = i + 2
            if k < j and self.toks[k].kind == "ident" and self.toks[k].value in ("string", "byte"):
                elem = self.toks[k].value
                if self._op(k + 1, j, "{") and elem == "string":
                    return self._composite(k + 1, j)
                if self._op(k + 1, j, "("):
                    args, k2 = self._args(k + 1, j)
                    return _CALLS[f"[]{elem}"](args), k2
            raise Unreadable("a slice literal of another type")
        if t.kind == "ident" and t.value == "map" and self._op(i + 1, j, "["):
            k = matching(self.toks, i + 1) + 1
            # the value type: a name, or struct{}
            if k < j and self.toks[k].value == "struct" and self._op(k + 1, j, "{"):
                k = matching(self.toks, k + 1) + 1
            elif k < j and self.toks[k].kind == "ident":
                k += 1
            if not self._op(k, j, "{"):
                raise Unreadable("a map literal")
            return self._composite(k, j)
        if t.kind == "ident":
            name, k = t.value, i + 1
            while self._op(k, j, ".") and k + 1 < j and self.toks[k + 1].kind == "ident":
                name += "." + self.toks[k + 1].value
                k += 2
            if name in ("true", "false"):
                return name == "true", k
            if name == "nil":
                return None, k
            if self._op(k, j, "("):
                if name not in _CALLS:
                    raise Unreadable(f"call {name}")
                args, k = self._args(k, j)
                try:
                    return _CALLS[name](args), k
                except IndexError as exc:
                    raise Unreadable(f"call {name} arity") from exc
            if "." in name:
                raise Unreadable(f"name {name}")
            return self.env(name), k
        raise Unreadable(f"token {t.value!r}")


# ---------------------------------------------------------------------------- declarations

@dataclass(frozen=True)
class Decl:
    """A named expression (``toks[start:end]``): package-level or local to a function."""

    toks: list[Tok]
    start: int
    end: int


@dataclass(frozen=True)
class Func:
    name: str
    body: tuple[int, int]  # token range inside the braces


def _specs(toks: list[Tok], i: int, j: int, out: dict[str, Decl | None]) -> None:
    """``a, b [Type] = x, y`` specs of a var/const declaration in ``toks[i:j]``."""
    for a, b in split_top(toks, i, j, ";"):
        eq = next((k for k in range(a, b) if toks[k].kind == "op" and toks[k].value in ("=", ":=")), None)
        if eq is None:
            continue
        # with a type (var x string = ...), the names are the idents before the type: keep the first ones
        lhs = [k for k in range(a, eq) if toks[k].kind == "ident"]
        commas = sum(1 for k in range(a, eq) if toks[k].value == ",")
        names = [toks[k].value for k in lhs[:commas + 1]]
        values = split_top(toks, eq + 1, b)
        if len(values) != len(names):
            for n in names:
                out.setdefault(n, None)
            continue
        for n, (x, y) in zip(names, values, strict=True):
            if n in out and out[n] is not None:
                out[n] = None  # assigned twice: which one holds is not read here
            else:
                out.setdefault(n, Decl(toks, x, y))


def top_level(toks: list[Tok]) -> tuple[dict[str, Decl | None], list[Func]]:
    """Package-level names and the file's functions."""
    names: dict[str, Decl | None] = {}
    funcs: list[Func] = []
    k = 0
    while k < len(toks):
        t = toks[k]
        if t.kind == "ident" and t.value in ("var", "const"):
            if k + 1 < len(toks) and toks[k + 1].value == "(":
                end = matching(toks, k + 1)
                _specs(toks, k + 2, end, names)
                k = end + 1
            else:
                end = next((m for m in range(k, len(toks)) if toks[m].value == ";" and _depth_zero(toks, k, m)),
                           len(toks))
                _specs(toks, k + 1, end, names)
                k = end + 1
            continue
        if t.kind == "ident" and t.value == "func":
            m = k + 1
            if m < len(toks) and toks[m].value == "(":  # a method receiver
                m = matching(toks, m) + 1
            name = toks[m].value if m < len(toks) and toks[m].kind == "ident" else ""
            brace = m
            while brace < len(toks) and toks[brace].value != "{":
                if toks[brace].value in "([":
                    brace = matching(toks, brace)
                brace += 1
            if brace >= len(toks):
                break
            end = matching(toks, brace)
            funcs.append(Func(name, (brace + 1, end)))
            k = end + 1
            continue
        if t.kind == "op" and t.value in "({[":
            k = matching(toks, k) + 1
            continue
        k += 1
    return names, funcs


def _depth_zero(toks: list[Tok], i: int, j: int) -> bool:
    depth = 0
    for k in range(i, j):
        v = toks[k].value if toks[k].kind == "op" else ""
        if v and v in "([{":
            depth += 1
        elif v and v in ")]}":
            depth -= 1
    return depth == 0


def _statement_end(toks: list[Tok], k: int, j: int) -> int:
    """Index of the ``;`` ending the statement that starts at ``k`` (brackets skipped)."""
    while k < j:
        v = toks[k].value if toks[k].kind == "op" else ""
        if v and v in "([{":
            k = matching(toks, k) + 1
            continue
        if v == ";" or v == "}":
            return k
        k += 1
    return j


def locals_of(toks: list[Tok], body: tuple[int, int]) -> dict[str, Decl | None]:
    """Names a function body defines (``x := ...``, ``const x = ...``, ``var x = ...``), any scope."""
    out: dict[str, Decl | None] = {}
    i, j = body
    for k in range(i, j):
        t = toks[k]
        if t.kind != "ident" or not (k == i or toks[k - 1].value in (";", "{", "}")):
            continue
        if t.value in ("const", "var"):
            if toks[k + 1].value == "(":
                _specs(toks, k + 2, matching(toks, k + 1), out)
            else:
                _specs(toks, k + 1, _statement_end(toks, k + 1, j), out)
            continue
        m = k
        while m + 2 < j and toks[m].kind == "ident" and toks[m + 1].value == ",":
            m += 2
        if m + 1 < j and toks[m].kind == "ident" and toks[m + 1].value == ":=":
            _specs(toks, k, _statement_end(toks, m + 2, j), out)
    return out


def resolver(*scopes: dict[str, Decl | None]) -> Env:
    """A name lookup over scopes (first wins), evaluated lazily with a cycle guard."""
    active: set[str] = set()
    cache: dict[str, Value] = {}

    def env(name: str) -> Value:
        if name in cache:
            return cache[name]
        for scope in scopes:
            if name in scope:
                decl = scope[name]
                if decl is None:
                    raise Unreadable(f"name {name} is assigned more than once or not literally")
                if name in active:
                    raise Unreadable(f"name {name} refers to itself")
                active.add(name)
                try:
                    v = Evaluator(decl.toks, env).value(decl.start, decl.end)
                finally:
                    active.discard(name)
                cache[name] = v
                return v
        raise Unreadable(f"name {name}")

    return env


def find_all(toks: list[Tok], i: int, j: int, *values: str) -> Iterator[int]:
    """Indices ``k`` in ``[i, j)`` where the token values ``values`` start."""
    n = len(values)
    for k in range(i, j - n + 1):
        if all(toks[k + m].value == v for m, v in enumerate(values)):
            yield k
