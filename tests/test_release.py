"""One version everywhere a user copies it from: the package, its metadata, and the rev the
README's pre-commit example pins (releases are tagged ``v<version>``, so that rev exists)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import agentreach

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_pins_the_current_release() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert agentreach.__version__ == version
    revs = re.findall(r"^\s+rev:\s*(\S+)\s*$", (ROOT / "README.md").read_text(), re.M)
    assert revs and set(revs) == {f"v{version}"}
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "id: agentreach" in hooks and "entry: agentreach precommit" in hooks
