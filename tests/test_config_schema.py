"""Every malformed configuration is refused before anything runs, in one line naming the
file, the key and its line, with the usage exit code (2): typos, wrong types, values out of
range, a section of the wrong shape, files that are not there. None is accepted silently,
none is a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from agentreach.cli import main

# (the YAML, the key the error must name, the line it must name)
MALFORMED = [
    ("gate:\n  block_rulez: [AR-AGENT-OWNERLESS]\n", "gate.block_rulez", 2),
    ("connectors:\n  aws:\n    regoins: [us-east-1]\n", "connectors.aws", 3),
    ("scan:\n  conectors: [aws]\n", "scan.conectors", 2),
    ("scan:\n  batch_size: -5\n", "scan.batch_size", 2),
    ("gate:\n  block_severities: [bogus]\n", "gate.block_severities", 2),
    ("lifecycle:\n  unused_days: -3\n", "lifecycle.unused_days", 2),
    ("scan: [aws]\n", "scan", 1),
    ("scan:\n  batch_size: abc\n", "scan.batch_size", 2),
    ("classifier:\n  prior: 2\n", "classifier.prior", 2),
    ("sensitivity:\n  rules_file: /no/such/rules.yaml\n", "sensitivity.rules_file", 2),
    ("classifier:\n  signals_file: /no/such/signals.yaml\n", "classifier.signals_file", 2),
    ("classifier:\n  agent_threshold: 0.3\n  possible_threshold: 0.5\n", "classifier", 1),
    ("classifier:\n  prior: yes\n", "classifier.prior", 2),
    ("gate:\n  allow_gaps: maybe\n", "gate.allow_gaps", 2),
    ("gate:\n  block_rules: [AR-NO-SUCH-RULE]\n", "gate.block_rules", 2),
    ("gate: true\n", "gate", 1),
    ("scan:\n  connectors: []\n", "scan.connectors", 2),
    ("scan:\n  connectors: [awz]\n", "scan.connectors", 2),
    ("store:\n  path: [a, b]\n", "store.path", 2),
    ("lifecycle:\n  rotation_days: 0\n", "lifecycle.rotation_days", 2),
    ("lifecycle:\n  unused_dayz: 30\n", "lifecycle", 2),
    ("lifecycle:\n  stale_codes: unused\n", "lifecycle.stale_codes", 2),
    ("ownership:\n  tag_keys: owner\n", "ownership.tag_keys", 2),
    ("ownership:\n  priority: [owner, nobody]\n", "ownership", 1),
    ("ownership:\n  directory_file: /no/such/people.csv\n", "ownership.directory_file", 2),
    ("findings:\n  disabled: AR-AGENT-STALE\n", "findings.disabled", 2),
    ("findings:\n  severity:\n    AR-AGENT-STALE: urgent\n", "findings.severity.AR-AGENT-STALE", 3),
    ("findings:\n  rules:\n    AR-AGENT-STALE:\n      min_acess: read\n", "findings.rules.AR-AGENT-STALE.min_acess", 4),
    ("findings:\n  rules:\n    AR-AGENT-IDENTITY-REUSE:\n      min_agents: abc\n",
     "findings.rules.AR-AGENT-IDENTITY-REUSE.min_agents", 4),
    ("findings:\n  colour: red\n", "findings", 2),
    ("connectors:\n  aws:\n    max_workers: 0\n", "connectors.aws.max_workers", 3),
    ("connectors:\n  azure:\n    credential: password\n", "connectors.azure.credential", 3),
    ("connectors:\n  gcp:\n    projects: ['Not A Project!']\n", "connectors.gcp.projects", 3),
    ("connectors:\n  files:\n    workers: -1\n", "connectors.files.workers", 3),
    ("connectors:\n  nosuch:\n    x: 1\n", "connectors.nosuch", 2),
    ("classifier:\n  prior: .nan\n", "classifier.prior", 2),
    ("unknown_section: {}\n", "unknown section", None),
    ("scan: {connectors: [aws]\n", "not valid YAML", 2),  # where the parser noticed
]


@pytest.mark.parametrize("text, key, line", MALFORMED, ids=[m[1] + f"#{i}" for i, m in enumerate(MALFORMED)])
def test_a_malformed_config_is_one_line_naming_file_key_and_line(tmp_path: Path, text: str, key: str,
                                                                  line: int | None) -> None:
    path = tmp_path / "agentreach.yaml"
    path.write_text(text)
    for command in (["inventory"], ["scan", "--only", "aws"], ["findings"]):
        res = CliRunner().invoke(main, ["--config", str(path), "--db", str(tmp_path / "x.db"), *command])
        assert res.exit_code == 2, (command, res.output)
        err = res.stderr.strip()
        assert len(err.splitlines()) == 1 and err.startswith("agentreach: error: config file "), err
        assert str(path) in err and key in err, err
        if line is not None:
            assert f"line {line}:" in err, err
        assert "Traceback" not in res.output
    assert not (tmp_path / "x.db").exists()  # nothing ran


def test_a_good_config_is_accepted_with_its_values(tmp_path: Path) -> None:
    path = tmp_path / "agentreach.yaml"
    path.write_text("scan:\n  connectors: [files]\n  batch_size: 50\nclassifier:\n  prior: 0.1\n"
                    "lifecycle:\n  unused_days: 30\nfindings:\n  rules:\n    AR-AGENT-STALE:\n      min_access: write\n"
                    "connectors:\n  files:\n    workers: 1\n")
    from agentreach.settings import load_settings

    config = load_settings(path)
    assert config["scan"]["batch_size"] == 50 and config["lifecycle"]["unused_days"] == 30


def test_flags_are_checked_too(tmp_path: Path) -> None:
    from agentreach.config import ConfigError
    from agentreach.settings import load_settings

    with pytest.raises(ConfigError, match=r"^connectors.gcp.projects\[0\]"):
        load_settings(None, {"connectors": {"gcp": {"projects": ["Bad Project"]}}})


def test_the_shipped_defaults_pass_the_whole_check() -> None:
    """What load_settings skips when no file and no flag is given is checked here, once."""
    from agentreach.config import load_config
    from agentreach.settings import validate

    config = load_config()
    validate(config, set(config), set(config["connectors"]))
