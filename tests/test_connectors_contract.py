"""Connectors are found through the entry-point group, third-party ones exactly like ours,
and a connector's failure becomes a gap in a completed snapshot rather than a dead scan."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from agentreach.config import ConfigError, load_config
from agentreach.connector import ScanContext, discover_connectors, load_connector
from agentreach.scan import prepare, run_scan
from agentreach.store import Store

PLUGIN = textwrap.dedent('''
    from agentreach.connector import Connector, ConnectorConfigError
    from agentreach.model import Identity, node_id

    class ThirdParty(Connector):
        name = "thirdparty"
        version = "9.9"

        def __init__(self, config):
            super().__init__(config)
            if config.get("explode") == "config":
                raise ConnectorConfigError("connectors.thirdparty.explode: not allowed")

        def scan(self, ctx):
            for i in range(int(self.config.get("count", 3))):
                yield Identity(id=node_id("tp", "svc", str(i)), provider="tp", source=self.name,
                               type="tp_service", name=f"svc-{i}")
                if self.config.get("explode") == "midway" and i == 1:
                    raise RuntimeError("the source fell over")
''')


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed distribution, as pip would leave it: a module and a dist-info folder."""
    (tmp_path / "tp_connector.py").write_text(PLUGIN)
    dist = tmp_path / "tp_connector-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tp-connector\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[agentreach.connectors]\nthirdparty = tp_connector:ThirdParty\n")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_builtin_aws_is_registered_through_the_entry_point_group() -> None:
    eps = discover_connectors()
    assert eps["aws"].value == "agentreach_connectors.aws:AwsConnector"
    assert load_connector("aws").name == "aws"


def test_third_party_connector_scans_into_a_snapshot(third_party: None, tmp_path: Path) -> None:
    config = load_config(overrides={"connectors": {"thirdparty": {"count": 4}}})
    connectors = prepare(config, ["thirdparty"])
    result = run_scan(Store(tmp_path / "s.db"), config, connectors, ScanContext())
    assert result.snapshot.status == "complete" and result.snapshot.node_count == 4
    assert result.snapshot.connectors == {"thirdparty": "9.9"}
    assert result.exit_code == 0


def test_a_connector_that_crashes_midway_keeps_what_it_gave(third_party: None, tmp_path: Path) -> None:
    config = load_config(overrides={"connectors": {"thirdparty": {"explode": "midway"}}})
    result = run_scan(Store(tmp_path / "s.db"), config, prepare(config, ["thirdparty"]), ScanContext())
    assert result.snapshot.status == "complete" and result.snapshot.node_count == 2
    assert [g.error_code for g in result.gaps] == ["RuntimeError"]
    assert result.exit_code == 3


def test_config_errors_name_the_key_before_anything_runs(third_party: None) -> None:
    config = load_config(overrides={"connectors": {"thirdparty": {"explode": "config"}}})
    with pytest.raises(ConfigError, match="connectors.thirdparty.explode"):
        prepare(config, ["thirdparty"])
    with pytest.raises(ConfigError, match="no connector named 'nosuch'"):
        prepare(config, ["nosuch"])
    with pytest.raises(ConfigError, match=r"connectors.aws: unknown key\(s\) regoins"):
        prepare(load_config(overrides={"connectors": {"aws": {"regoins": ["x"]}}}), ["aws"])


def test_user_config_file_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("connectors: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml line \d+: not valid YAML"):
        load_config(bad)
    bad.write_text("conectors: {}\n")
    with pytest.raises(ConfigError, match="unknown section"):
        load_config(bad)
    good = tmp_path / "good.yaml"
    good.write_text("connectors:\n  aws:\n    regions: [eu-west-1]\n")
    merged = load_config(good, {"connectors": {"aws": {"max_workers": 2}}})
    assert merged["connectors"]["aws"]["regions"] == ["eu-west-1"]
    assert merged["connectors"]["aws"]["max_workers"] == 2
    assert merged["connectors"]["aws"]["role_name"] == "agentreach-readonly"  # default kept
