"""A connector from a separate distribution adds what a built-in adds, touching no file of the
core: a signal kind (and the signals that use it), a reach deriver, a ``scan`` option, a
scope type, a findings rule and an output format, all through the ``agentreach.plugins``
entry-point group. The distribution is written into a temporary folder as pip would leave it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from agentreach import registry as registry_module
from agentreach.cli import main
from agentreach.findings import RULES

PACKAGE = textwrap.dedent('''
    """A third party's connector for an imaginary 'tp' platform."""
    from agentreach.classify.matchers import Match
    from agentreach.connector import Connector
    from agentreach.graph.derive import Derived
    from agentreach.graph.grant import AccessGrant
    from agentreach.model import Identity, System, node_id
    from agentreach.plugins import CliOption, OutputFormat, Plugin, SignalKind

    class TpConnector(Connector):
        name = "tp"
        version = "1.0"

        def scan(self, ctx):
            yield System(id=node_id("tp", "account", "acct-1"), provider="tp", source="tp", type="tp_account",
                         name="tp account", native_id="acct-1", account="acct-1")
            yield Identity(id=node_id("tp", "bot", "alpha"), provider="tp", source="tp", type="tp_bot",
                           name="alpha", account="acct-1", attrs={"persona": "autonomous-agent"})
            yield Identity(id=node_id("tp", "bot", "beta"), provider="tp", source="tp", type="tp_bot",
                           name="beta", account="acct-1", attrs={"persona": "cron"})
            yield System(id=node_id("tp", "vault", "v1"), provider="tp", source="tp", type="tp_vault",
                         name=self.config.get("vault_name", "vault"), account="acct-1",
                         attrs={"readers": ["alpha"]})

    def match_persona(signal, node, view):
        value = node.attrs.get("persona")
        if isinstance(value, str) and signal.regex["value"].search(value):
            return [Match(matched=value, field="attrs.persona", object=node.id, object_name=node.name)]
        return []

    def derive(view):
        edges = []
        for node in view.nodes.values():
            if node.type != "tp_vault":
                continue
            for reader in node.attrs.get("readers") or []:
                grant = AccessGrant(level="read", actions=frozenset({"vault.read"}),
                                    grants=(f"reader list of {node.name}",))
                edges.append(grant.edge(node_id("tp", "bot", reader), node.id, "policy:tp"))
        return Derived(edges=edges)

    def render_tsv(report):
        return "".join(f"{f['rule']}\\t{f['subject_name']}\\n" for f in report["findings"])

    PLUGIN = Plugin(
        name="tp", provider="tp", description="an imaginary platform",
        signal_kinds={"persona": SignalKind("tp_plugin_pkg:match_persona", required=("value",),
                                            regex_keys=("value",))},
        signals=("tp_plugin_pkg:signals.yaml",),
        derivers=("tp_plugin_pkg:derive",),
        cli_options=(CliOption("--tp-vault-name", "vault_name", "TP: the vault's display name."),),
        scope_types=("tp_account",),
        formats={"tsv": OutputFormat("tp_plugin_pkg:render_tsv", description="rule and subject, tab-separated")},
        rules=("tp_plugin_pkg.rules",),
    )
''')

SIGNALS = textwrap.dedent('''
    signals:
      - id: tp.persona.agent
        provider: tp
        kind: persona
        value: 'autonomous'
        weight: 0.9
        strength: strong
        role: agent_runtime
        why: the platform says this bot is an autonomous agent
''')

RULE_MODULE = textwrap.dedent('''
    from agentreach.findings.base import RuleMeta, rule

    META = RuleMeta(id="TP-AGENT-IN-SCANNED-ACCOUNT", title="Agent in a scanned tp account", severity="low",
                    rationale="a test rule", remediation="none", owasp_nhi="", nist_csf="")

    @rule(META)
    def agents_in_scope(ctx, meta, params):
        for node in ctx.subjects(include_possible=False):
            if node.provider == "tp" and node.account in ctx.scanned_accounts:
                yield ctx.finding(meta, node, meta.severity, [f"account {node.account} was scanned"])
''')


@pytest.fixture
def tp_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    site = tmp_path / "site"
    pkg = site / "tp_plugin_pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(PACKAGE)
    (pkg / "signals.yaml").write_text(SIGNALS)
    (pkg / "rules.py").write_text(RULE_MODULE)
    dist = site / "tp_plugin_pkg-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tp-connector\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[agentreach.connectors]\ntp = tp_plugin_pkg:TpConnector\n\n"
                                           "[agentreach.plugins]\ntp = tp_plugin_pkg:PLUGIN\n")
    monkeypatch.syspath_prepend(str(site))
    registry_module.reload()
    rules_before = list(RULES)
    yield
    RULES[:] = rules_before  # the plugin's rule module registered into the process-wide list
    monkeypatch.undo()
    registry_module.reload()


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_a_third_party_plugin_adds_a_signal_a_deriver_an_option_a_rule_and_a_format(
        tp_distribution: None, tmp_path: Path) -> None:
    db = str(tmp_path / "tp.db")
    assert "--tp-vault-name" in run("scan", "--help").output
    scanned = run("--db", db, "-q", "scan", "--only", "tp", "--tp-vault-name", "crown-vault")
    assert scanned.exit_code == 0, scanned.output

    # the flag reached the connector's config section
    shown = json.loads(run("--db", db, "show", "crown-vault", "--format", "json").output)
    assert shown["object"]["type"] == "tp_vault"

    # the signal kind and the plugin's signal file: evidence on alpha, none on beta
    alpha = json.loads(run("--db", db, "explain", "alpha", "--format", "json").output)
    assert alpha["agent"]["verdict"] == "agent"
    assert [e["signal"] for e in alpha["agent"]["evidence"]] == ["tp.persona.agent"]
    beta = json.loads(run("--db", db, "explain", "beta", "--format", "json").output)
    assert beta["agent"]["verdict"] == "none"

    # the deriver's edge, with its typed grant, answers the responder's question
    who = json.loads(run("--db", db, "who-can-reach", "crown-vault", "--format", "json").output)
    assert [(s["name"], s["access"]) for s in who["subjects"]] == [("alpha", "read")]
    assert who["subjects"][0]["path"][-1]["grant"] == ["reader list of crown-vault"]

    # the rule (reading the plugin's scope type) and the output format
    tsv = run("--db", db, "findings", "--format", "tsv")
    assert tsv.exit_code == 0, tsv.output
    assert "TP-AGENT-IN-SCANNED-ACCOUNT\talpha\n" in tsv.output


def test_without_the_plugin_its_provider_and_format_are_unknown(tmp_path: Path) -> None:
    from agentreach.classify.signals import _build
    from agentreach.config import ConfigError

    with pytest.raises(ConfigError, match="provider must be one of"):
        _build({"id": "x", "provider": "tp", "kind": "field", "field": "name", "pattern": "x", "weight": 0.5},
               "test")
    assert "tsv" not in run("findings", "--help").output


def test_a_broken_plugin_is_left_out_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "broken_plugin.py").parent.mkdir(parents=True)
    (site / "broken_plugin.py").write_text("raise RuntimeError('this plugin is broken')\n")
    dist = site / "broken_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[agentreach.plugins]\nbroken = broken_plugin:PLUGIN\n")
    monkeypatch.syspath_prepend(str(site))
    try:
        reg = registry_module.reload()
        assert any("plugin broken" in e and "this plugin is broken" in e for e in reg.errors)
        assert {p.name for p in reg.plugins} >= {"core", "aws", "azure", "gcp", "files"}
        assert run("--help").exit_code == 0
    finally:
        monkeypatch.undo()
        registry_module.reload()
