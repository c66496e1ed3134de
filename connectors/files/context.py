"""Agent-framework context: a ``.env`` next to agent-framework code or manifests (or that code
itself) gets the Location context ``agent_framework:<name>``."""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path, PurePosixPath

from .read import Skip, open_regular, read_all

MANIFESTS = ("pyproject.toml", "package.json", "Pipfile", "setup.py", "setup.cfg")
_REQ = re.compile(r"^requirements[\w.-]*\.(txt|in)$")

# package name as written in a manifest -> framework name
_FRAMEWORK = re.compile(
    r"""(?im)(?:^|["'\s,\[(])(@langchain/[\w-]+|langchain[\w-]*|@langchain/langgraph|langgraph[\w-]*|"""
    r"""llama[-_]index[\w-]*|crewai[\w-]*|pyautogen|autogen[\w-]*|ag2|openai-agents|@openai/agents|"""
    r"""strands-agents[\w-]*|google-adk|@modelcontextprotocol/[\w-]+|fastmcp|mcp)(?=$|[\s"'<>=~!\[;,)^@])""")
_IMPORT = re.compile(
    r"""(?m)^\s*(?:from|import)\s+(langchain\w*|langgraph|llama_index|crewai|autogen\w*|agents|strands|"""
    r"""google\.adk|mcp|fastmcp)\b|(?:require\(|from\s+)["'](@langchain/[\w-]+|langchain|@openai/agents|"""
    r"""@modelcontextprotocol/[\w-]+)""")
CODE_EXT = {".py", ".ts", ".js", ".mjs", ".cjs", ".tsx", ".ipynb"}
# A literal each of _IMPORT's names contains: a text with none of them cannot match, and
# substring search is several times faster than the regex's scan of every line.
_IMPORT_HINTS = ("langchain", "langgraph", "llama_index", "crewai", "autogen", "agents", "strands", "google.adk",
                 "mcp", "modelcontextprotocol")


def canonical(pkg: str) -> str:
    p = pkg.lower().replace("_", "-")
    if p.startswith("@modelcontextprotocol/") or p in ("mcp", "fastmcp"):
        return "mcp"
    if "langgraph" in p:
        return "langgraph"
    if p.startswith(("langchain", "@langchain/")):
        return "langchain"
    if p.startswith("llama-index") or p.startswith("llama.index"):
        return "llama-index"
    if p.startswith("crewai"):
        return "crewai"
    if p.startswith(("autogen", "pyautogen")) or p == "ag2":
        return "autogen"
    if p in ("openai-agents", "@openai/agents", "agents"):
        return "openai-agents"
    if p.startswith("strands"):
        return "strands-agents"
    if p in ("google-adk", "google.adk"):
        return "google-adk"
    return p


def framework_in_text(text: str, manifest: bool) -> str | None:
    if manifest:
        m = _FRAMEWORK.search(text)
        return canonical(m.group(1)) if m else None
    if not any(hint in text for hint in _IMPORT_HINTS):
        return None
    m = _IMPORT.search(text)
    return canonical(m.group(1) or m.group(2)) if m else None


def is_env_file(rel: str) -> bool:
    name = posixpath.basename(rel).lower()
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def is_manifest(name: str) -> bool:
    return name in MANIFESTS or bool(_REQ.match(name))


class FrameworkIndex:
    """Which framework a directory (or one of its parents up to the root) declares or imports."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._dirs: dict[str, str | None] = {}

    def _read(self, path: Path, limit: int = 262144) -> str:
        """A manifest or code file next to a secret: never through a symlink, never a FIFO."""
        try:
            fd, _ = open_regular(str(path), follow=False)
        except (OSError, Skip):
            return ""
        try:
            return read_all(fd, limit).decode("utf-8", "replace")
        except OSError:
            return ""
        finally:
            os.close(fd)

    def of_dir(self, rel_dir: str) -> str | None:
        """The framework a directory declares or imports, or the nearest parent's (walked up
        without recursion: a tree can be thousands of directories deep)."""
        chain: list[str] = []
        d = rel_dir if rel_dir not in (".",) else ""
        while True:
            if d in self._dirs:
                found = self._dirs[d]
                break
            chain.append(d)
            found = self._own(d)
            if found or d == "":
                break
            parent = str(PurePosixPath(d).parent)
            d = "" if parent == "." else parent
        for c in chain:
            self._dirs[c] = found
        return found

    def _own(self, rel_dir: str) -> str | None:
        d = self.root / rel_dir if rel_dir else self.root
        try:
            entries = sorted(p for p in d.iterdir() if p.is_file())
        except OSError:
            entries = []
        for p in entries:
            if is_manifest(p.name):
                found = framework_in_text(self._read(p), manifest=True)
                if found:
                    return found
        for p in entries[:200]:
            if p.suffix in CODE_EXT:
                found = framework_in_text(self._read(p, 65536), manifest=False)
                if found:
                    return found
        return None

    def context_for(self, rel: str, text: str) -> str:
        """The Location context of a secret in file ``rel`` whose text is ``text``."""
        if is_env_file(rel):
            name = self.of_dir(posixpath.dirname(rel))
            return f"agent_framework:{name}" if name else ""
        if posixpath.splitext(rel)[1] in CODE_EXT:
            name = framework_in_text(text, manifest=False)
            return f"agent_framework:{name}" if name else ""
        return ""
