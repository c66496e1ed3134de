"""The demo's leaked repository: a small agent project as people really leave them, with
an `.env` holding an AI-provider key and the live AWS access key of an agent user, and a
Cursor MCP config with a GitHub token. The files connector scans it, and because the AWS
key id is one the AWS scan sees as active, the demo shows the most serious finding there
is: a leaked secret that unlocks a live credential.

Every value is obviously fake (DEMOCANARY); the AWS key *id* is the real one moto issued,
so the link is made the way it would be in a real estate (key ids are not secrets).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .seed import _chars, _fake_secret

LEAKED_USER = "langchain-bot"


def leaked_key_id(expected: dict[str, Any]) -> str:
    """The first active access key of the leaked user in the first account that has it."""
    for account in expected["accounts"].values():
        user = account["users"].get(LEAKED_USER)
        if user:
            for key in user.get("access_keys", []):
                if key["status"] == "Active":
                    return str(key["id"])
    raise LookupError(f"the demo estate has no active key for {LEAKED_USER}")


def write_leaked_repo(dest: Path, expected: dict[str, Any]) -> tuple[Path, list[str]]:
    """Write the project under ``dest``; return its root and the fake secret values planted
    (canaries for the tests: none may appear in any output or in the store)."""
    root = dest / "support-bot"
    (root / ".cursor").mkdir(parents=True, exist_ok=True)
    openai = _fake_secret("openai", "support-bot")
    aws_secret = "DEMOCANARY" + _chars("support-bot/aws", 30)
    github = "ghp_DEMOCANARY" + _chars("support-bot/github", 26)
    (root / "requirements.txt").write_text("langchain>=0.3\nlanggraph>=0.2\nboto3\n", encoding="utf-8")
    (root / "agent.py").write_text(
        "from langgraph.prebuilt import create_react_agent\n\n"
        "agent = create_react_agent('openai:gpt-4o', tools=[])\n", encoding="utf-8")
    (root / ".env").write_text(
        "# copied from the ops vault for a quick test\n"
        f"OPENAI_API_KEY={openai}\n"
        f"AWS_ACCESS_KEY_ID={leaked_key_id(expected)}\n"
        f"AWS_SECRET_ACCESS_KEY={aws_secret}\n"
        "AWS_REGION=us-east-1\n", encoding="utf-8")
    mcp = {"mcpServers": {"github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                                     "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": github}}}}
    (root / ".cursor" / "mcp.json").write_text(json.dumps(mcp, indent=2) + "\n", encoding="utf-8")
    return root, [openai, aws_secret, github]
