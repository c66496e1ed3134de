"""MCP client configs, parsed as JSON (not regex): each server's ``env`` and ``headers``
values that are credentials (placeholders and ``${...}`` references are not)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from .bounded import load_json

# file name (or parent/name) -> client
CLIENTS = {
    "claude_desktop_config.json": "claude_desktop",
    ".cursor/mcp.json": "cursor",
    ".vscode/mcp.json": "vscode",
    ".mcp.json": "claude_code",
    "mcp_config.json": "windsurf",
    "cline_mcp_settings.json": "cline",
}
_SECRET_NAME = re.compile(r"(?i)(token|secret|passw|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
                          r"credential|auth|\bpat\b|_pat$|^pat_|bearer|session|cookie|key$)")
_PLACEHOLDER = re.compile(r"(?i)^(\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|<[^>]*>|\{\{[^}]*\}\}|x{4,}|\*{3,}|"
                          r".*(your|changeme|example|placeholder|replace|insert|dummy).*|)$")


def client_of(rel: str) -> str | None:
    p = PurePosixPath(rel)
    name = p.name
    two = f"{p.parent.name}/{name}" if p.parent.name else name
    return CLIENTS.get(two) or (CLIENTS.get(name) if name != "mcp.json" else None)


@dataclass(frozen=True)
class McpValue:
    server: str
    field: str  # env | headers | args
    key: str
    value: str
    line: int


def _line_of(text: str, value: str, start: int) -> int:
    needle = json.dumps(value)[1:-1]
    idx = text.find(needle, start)
    if idx < 0:
        idx = text.find(needle)
    return text.count("\n", 0, idx) + 1 if idx >= 0 else 1


def is_credential_value(key: str, value: str) -> bool:
    v = value.strip()
    if len(v) < 8 or _PLACEHOLDER.match(v) or " " in v.removeprefix("Bearer ").removeprefix("Basic "):
        return False
    return bool(_SECRET_NAME.search(key))


def parse(text: str, max_bytes: int, max_depth: int) -> list[McpValue]:
    """Raises bounded.Refused past the bounds, ValueError on broken JSON."""
    data: Any = load_json(text, max_bytes, max_depth)
    if not isinstance(data, dict):
        return []
    servers = data.get("mcpServers")
    if not isinstance(servers, dict):
        servers = data.get("servers")
    if not isinstance(servers, dict) and isinstance(data.get("mcp"), dict):
        servers = data["mcp"].get("servers")
    if not isinstance(servers, dict):
        return []
    out: list[McpValue] = []
    for name, entry in servers.items():
        if not isinstance(entry, dict):
            continue
        start = max(text.find(json.dumps(name)), 0)
        for field in ("env", "headers"):
            values = entry.get(field)
            if not isinstance(values, dict):
                continue
            for key, value in values.items():
                if isinstance(value, str):
                    out.append(McpValue(str(name), field, str(key), value, _line_of(text, value, start)))
        args = entry.get("args")
        if isinstance(args, list):
            for i, arg in enumerate(args):
                if isinstance(arg, str):
                    key, _, val = arg.partition("=") if arg.startswith("--") and "=" in arg else (f"args[{i}]", "", arg)
                    out.append(McpValue(str(name), "args", key.lstrip("-"), val, _line_of(text, val, start)))
    return out
