"""The global options (--db, --config, -q, -v) work after the subcommand as well as before
it: ``agentreach scan --db X`` is what people type."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from agentreach.cli import main

KEY = "sk-proj-" + "Qw3rTy9" * 6 + "T3BlbkFJ" + "Zx8" * 8


def test_global_options_after_the_subcommand(tmp_path: Path) -> None:
    tree = tmp_path / "repo"
    tree.mkdir()
    (tree / ".env").write_text(f"OPENAI_API_KEY={KEY}\n")
    config = tmp_path / "c.yaml"
    config.write_text("scan:\n  connectors: [files]\n")
    db = tmp_path / "after.db"
    run = CliRunner()
    res = run.invoke(main, ["scan", "--db", str(db), "--config", str(config), "-q", "--path", str(tree),
                            "--all-files"])
    assert res.exit_code == 0, res.output
    assert db.exists() and res.stderr == ""
    listed = run.invoke(main, ["inventory", "--db", str(db), "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert [o["type"] for o in json.loads(listed.stdout)["objects"]] == ["file_secret"]
    # the subcommand's value wins over the group's
    other = tmp_path / "other.db"
    res = run.invoke(main, ["--db", str(other), "inventory", "--db", str(db), "--format", "json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["objects"]
    assert not other.exists()


def test_a_missing_config_file_is_an_error_for_every_command(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["inventory", "--config", str(tmp_path / "nope.yaml"), "--db",
                                    str(tmp_path / "x.db")])
    assert res.exit_code == 2 and "does not exist" in res.stderr
