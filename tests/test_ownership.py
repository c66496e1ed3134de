"""Owner resolution: tag spellings and priority, propagation, mapping, directory status."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentreach.config import ConfigError
from agentreach.model import Credential, Edge, EdgeKind, Identity, Node, Owner, Workload, node_id
from agentreach.ownership import (
    Directory,
    DirectoryEntry,
    MappingRule,
    OwnerVerdict,
    load_mapping,
    load_owner_config,
    resolve_owners,
)
from agentreach.view import SnapshotView

ACCT = "111122223333"
CFG = load_owner_config(None)


def role(name: str, tags: dict[str, str] | None = None, **attrs: object) -> Identity:
    arn = f"arn:aws:iam::{ACCT}:role/{name}"
    return Identity(id=node_id("aws", "iam_role", arn), provider="aws", source="aws", type="aws_iam_role",
                    name=name, native_id=arn, account=ACCT, tags=tags or {}, attrs=dict(attrs))


def key(key_id: str, ident: Identity, tags: dict[str, str] | None = None) -> tuple[Credential, Edge]:
    cred = Credential(id=node_id("aws", "access_key", key_id), provider="aws", source="aws", type="aws_access_key",
                      name=key_id, native_id=key_id, account=ACCT, tags=tags or {}, attrs={"user": ident.name})
    return cred, Edge(src=cred.id, dst=ident.id, kind=EdgeKind.AUTHENTICATES, source="aws")


def agent(name: str, runs_as: Identity, tags: dict[str, str]) -> tuple[Workload, Edge]:
    arn = f"arn:aws:bedrock:us-east-1:{ACCT}:agent/{name}"
    wl = Workload(id=node_id("aws", "bedrock_agent", arn), provider="aws", source="aws", type="aws_bedrock_agent",
                  name=name, native_id=arn, account=ACCT, tags=tags)
    return wl, Edge(src=wl.id, dst=runs_as.id, kind=EdgeKind.RUNS_AS, source="aws")


def resolve(nodes: list[Node], edges: list[Edge] = (), **kw: object) -> dict[str, OwnerVerdict]:
    view = SnapshotView.build(nodes, [e.to_dict() for e in edges])
    verdicts = resolve_owners(view, CFG, **kw)
    for v in verdicts.values():  # every claim has evidence
        assert v.evidence, v
        assert v.to_dict()["evidence"]
    return verdicts


@pytest.mark.parametrize("tag_key", ["Owner", "owner", "OWNER", "owner-email", "OwnerEmail", "Contact", "contact",
                                     "Team", "team", "created-by", "CreatedBy"])
def test_every_tag_spelling_names_the_owner(tag_key: str) -> None:
    r = role("svc", {tag_key: "alice@example.com"})
    v = resolve([r])[r.id]
    assert (v.name, v.status) == ("alice@example.com", "owned")
    tag_ev = v.evidence[0]
    assert tag_ev.field == f"tags.{tag_key}" and tag_ev.matched == "alice@example.com" and tag_ev.object == r.id
    assert any("no owner directory given" in (e.note or "") for e in v.evidence)


@pytest.mark.parametrize("tags", [{"CostCenter": "cc-42"}, {"Project": "apollo"}, {"cost-center": "1"}, {}])
def test_budget_tags_alone_are_ownerless_and_said_so(tags: dict[str, str]) -> None:
    r = role("svc", tags)
    v = resolve([r])[r.id]
    assert (v.name, v.status) == (None, "ownerless")
    assert v.evidence[0].source == "nothing"
    budget = [e for e in v.evidence if e.source == "not_an_owner"]
    assert len(budget) == len(tags)
    for e in budget:
        assert "not an owner" in (e.note or "") and e.field == f"tags.{next(iter(tags))}"


def test_priority_owner_beats_team_beats_created_by() -> None:
    full = role("a", {"created-by": "carol", "team": "payments", "Owner": "alice"})
    team = role("b", {"created-by": "carol", "Team": "payments", "CostCenter": "cc-1"})
    creator = role("c", {"CreatedBy": "carol"})
    v = resolve([full, team, creator])
    assert v[full.id].name == "alice" and v[full.id].evidence[0].source == "owner_tag"
    assert v[team.id].name == "payments" and v[team.id].evidence[0].source == "team_tag"
    assert v[creator.id].name == "carol" and v[creator.id].evidence[0].source == "created_by_tag"


def test_blank_owner_tag_falls_through() -> None:
    r = role("svc", {"Owner": "  ", "team": "data"})
    assert resolve([r])[r.id].name == "data"


def test_agent_workload_owner_propagates_to_untagged_role_and_its_key() -> None:
    r = role("claims-agent-role")
    wl, runs = agent("claims-agent", r, {"Owner": "ml-team@example.com"})
    cred, auth = key("AKIAEXAMPLE000000001", r)
    v = resolve([r, wl, cred], [runs, auth])
    assert v[r.id].name == "ml-team@example.com"
    ev = v[r.id].evidence[0]
    assert ev.object == wl.id and ev.via == "workload claims-agent runs_as claims-agent-role"
    assert v[cred.id].name == "ml-team@example.com" and v[cred.id].status == "owned"
    assert v[cred.id].evidence[0].via.startswith("authenticates -> claims-agent-role; workload claims-agent")
    assert wl.id not in v  # workloads get no verdict of their own


def test_own_tag_beats_workload_and_key_tag_beats_identity() -> None:
    r = role("tagged", {"owner": "bob"})
    wl, runs = agent("x", r, {"Owner": "alice"})
    cred, auth = key("AKIAEXAMPLE000000002", r, {"Owner": "carol"})
    v = resolve([r, wl, cred], [runs, auth])
    assert v[r.id].name == "bob" and v[r.id].evidence[0].via is None
    assert v[cred.id].name == "carol" and v[cred.id].evidence[0].object == cred.id


def test_two_workloads_disagreeing_are_both_in_evidence() -> None:
    r = role("shared")
    a, ea = agent("a", r, {"Owner": "alice"})
    b, eb = agent("b", r, {"Owner": "bob"})
    v = resolve([r, a, b], [ea, eb])[r.id]
    assert v.name == "alice"
    assert any(e.matched == "bob" and "another workload" in (e.note or "") for e in v.evidence)


def test_entra_owners_and_sponsors_from_attrs() -> None:
    sp = Identity(id="azure:sp:1", provider="azure", source="azure", type="azure_service_principal", name="helpdesk",
                  attrs={"owners": [{"name": "Gone Person", "email": "gone@contoso.com", "active": False},
                                    {"name": "Dana", "email": "dana@contoso.com", "active": True}]})
    sponsored = Identity(id="azure:sp:2", provider="azure", source="azure", type="azure_agent_identity",
                         name="planner", attrs={"sponsors": [{"name": "Eve", "email": "eve@contoso.com"}]})
    disabled = Identity(id="azure:sp:3", provider="azure", source="azure", type="azure_service_principal",
                        name="old", attrs={"owners": [{"name": "Gone Person", "accountEnabled": False}]})
    gcp = Identity(id="gcp:sa:1", provider="gcp", source="gcp", type="gcp_service_account", name="runner",
                   tags={"owner": "frank", "cost_center": "42"})
    v = resolve([sp, sponsored, disabled, gcp])
    assert (v[sp.id].name, v[sp.id].status) == ("Dana", "owned")
    assert v[sp.id].evidence[0].source == "owners_attr" and v[sp.id].evidence[0].field == "attrs.owners"
    assert (v[sponsored.id].name, v[sponsored.id].evidence[0].source) == ("Eve", "sponsors_attr")
    assert v[disabled.id].status == "orphaned"
    assert "disabled" in v[disabled.id].evidence[-1].note
    assert v[gcp.id].name == "frank"


def test_owns_edge_from_owner_node() -> None:
    r = role("svc")
    o = Owner(id="azure:user:u1", provider="azure", source="azure", type="azure_user", name="Gina",
              attrs={"email": "gina@contoso.com"}, active=True)
    v = resolve([r, o], [Edge(src=o.id, dst=r.id, kind=EdgeKind.OWNS, source="azure")])[r.id]
    assert (v.name, v.status, v.evidence[0].source) == ("Gina", "owned", "owns_edge")



@pytest.mark.parametrize(("enabled", "status"), [(True, "owned"), (False, "orphaned")])
def test_a_service_principal_owning_another_is_judged_by_its_enabled_flag(enabled: bool, status: str) -> None:
    """Entra lets a service principal own another (provisioning automation); GraphTools'
    Get-GTOrphanedServicePrincipal counts it, AllOwnersDisabled when it is disabled. A people
    directory does not list it, so it is judged by its own accountEnabled."""
    owned = Identity(id="azure:sp:a", provider="azure", source="azure", type="azure_sp", name="billing-app")
    owner = Identity(id="azure:sp:b", provider="azure", source="azure", type="azure_sp", name="provisioner",
                     enabled=enabled)
    people = Directory.of([DirectoryEntry("Gina", "gina@contoso.com", True)])  # the SP is in no people directory
    v = resolve([owned, owner], [Edge(src=owner.id, dst=owned.id, kind=EdgeKind.OWNS, source="azure")],
                directory=people)
    assert (v[owned.id].name, v[owned.id].status) == ("provisioner", status)
    assert v[owned.id].evidence[0].source == "owns_edge"
    assert ("enabled" if enabled else "disabled") in v[owned.id].evidence[-1].note


def test_mapping_file_last_match_wins_and_only_for_untagged(tmp_path: Path) -> None:
    path = tmp_path / "owners-map.yaml"
    path.write_text("- {pattern: 'data-*', owner: data-team}\n"
                    "- {pattern: 'data-etl-*', owner: etl-team}\n"
                    "- {pattern: 're:^arn:aws:iam::111122223333:role/ops', owner: ops}\n")
    rules = load_mapping(path)
    etl, data, ops, tagged, none = (role("data-etl-nightly"), role("data-lake-reader"), role("ops-runner"),
                                    role("data-tagged", {"Owner": "zed"}), role("misc"))
    v = resolve([etl, data, ops, tagged, none], mapping=rules)
    assert v[etl.id].name == "etl-team" and v[data.id].name == "data-team"
    assert v[etl.id].evidence[0].source == "mapping" and v[etl.id].evidence[0].via == "owner mapping file"
    assert v[etl.id].evidence[0].matched == "data-etl-*" and v[etl.id].evidence[0].field == "name"
    assert v[ops.id].name == "ops" and v[ops.id].evidence[0].field == "native_id"
    assert v[tagged.id].name == "zed"
    assert v[none.id].status == "ownerless" and "no mapping rule matched" in v[none.id].evidence[0].note


def test_mapping_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("- {pattern: 'x*'}\n")
    with pytest.raises(ConfigError, match="m.yaml: entry 1"):
        load_mapping(bad)
    bad.write_text("- {pattern: 're:(', owner: x}\n")
    with pytest.raises(ConfigError, match="regular expression"):
        load_mapping(bad)


def test_directory_status(tmp_path: Path) -> None:
    path = tmp_path / "people.yaml"
    path.write_text("- {name: Alice, email: alice@example.com, active: true, kind: person}\n"
                    "- {name: Bob, email: bob@example.com, active: false, kind: person}\n"
                    "- {name: payments, active: true, kind: team, aliases: [team-payments]}\n")
    directory = Directory.load(path)
    active, inactive, unknown, team = (role("a", {"Owner": "ALICE@example.com"}), role("b", {"Owner": "bob"}),
                                       role("c", {"Owner": "mallory@example.com"}), role("d", {"team": "team-payments"}))
    bare = role("e", {"Owner": "mallory"})
    v = resolve([active, inactive, unknown, team, bare], directory=directory)
    assert v[active.id].status == "owned" and "active in the owner directory people.yaml" in v[active.id].evidence[-1].note
    assert v[inactive.id].status == "orphaned" and "inactive" in v[inactive.id].evidence[-1].note
    # missing from a directory that lists the people of example.com: removed, so orphaned
    assert v[unknown.id].status == "orphaned" and "unknown to the owner directory" in v[unknown.id].evidence[-1].note
    # a bare name the directory does not know: no evidence that they left
    assert v[bare.id].status == "unknown" and "cannot say" in v[bare.id].evidence[-1].note
    assert v[team.id].status == "owned"
    none_given = resolve([inactive])[inactive.id]
    assert none_given.status == "owned" and "no owner directory given" in none_given.evidence[-1].note


def test_directory_csv_and_multiple_owners_pick_an_active_one(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("name,email,active,kind\nBob,bob@example.com,false,person\nCat,cat@example.com,true,person\n")
    d = Directory.load(path)
    assert d.find("BOB@example.com") == DirectoryEntry("Bob", "bob@example.com", False, "person")
    r = role("x", {"Owner": "bob@example.com, cat@example.com"})
    v = resolve([r], directory=d)[r.id]
    assert (v.name, v.status) == ("cat@example.com", "owned")  # as the source names them


def test_owner_nodes_act_as_the_directory() -> None:
    alive = Owner(id="azure:user:1", provider="azure", source="azure", type="azure_user", name="Hana",
                  attrs={"user_principal_name": "hana@contoso.com"}, active=True)
    gone = Owner(id="azure:user:2", provider="azure", source="azure", type="azure_user", name="Ivo",
                 attrs={"email": "ivo@contoso.com"}, active=False)
    a, b, c = role("a", {"Owner": "hana@contoso.com"}), role("b", {"Owner": "Ivo"}), role("c", {"Owner": "x@contoso.com"})
    # Entra users know contoso.com only: an owner named elsewhere with another domain, or
    # by a bare name, is not judged gone by them (a GCP description, an AWS tag)
    d, e = role("d", {"Owner": "alice@example.com"}), role("e", {"Owner": "nobody"})
    v = resolve([alive, gone, a, b, c, d, e])
    assert v[a.id].status == "owned" and v[b.id].status == "orphaned" and v[c.id].status == "orphaned"
    assert "unknown to the Owner nodes of the snapshot" in v[c.id].evidence[-1].note
    assert v[d.id].status == "unknown" and "only knows contoso.com" in v[d.id].evidence[-1].note
    assert v[e.id].status == "unknown"
    assert alive.id not in v  # owners themselves get no verdict


def test_a_partial_directory_judges_only_the_domains_it_covers(tmp_path: Path) -> None:
    """A directory file of example.com and the Entra users of contoso.com: an owner of a third
    domain is unknown (no evidence of departure), not orphaned; one of a covered domain that
    neither lists is orphaned."""
    path = tmp_path / "people.yaml"
    path.write_text("- {name: Alice, email: alice@example.com, active: true}\n")
    hana = Owner(id="azure:user:1", provider="azure", source="azure", type="azure_user", name="Hana",
                 attrs={"email": "hana@contoso.com"}, active=True)
    r = role("r", {"Owner": "mallory@elsewhere.org"})
    gone = role("g", {"Owner": "zed@example.com"})
    v = resolve([hana, r, gone], directory=Directory.load(path))
    assert v[r.id].status == "unknown"
    assert v[gone.id].status == "orphaned"


def test_config_user_section_merges_and_rejects_unknown_keys() -> None:
    cfg = load_owner_config({"ownership": {"tag_keys": {"owner": ["Steward"]}}})
    assert cfg.tag_keys["owner"] == ("Steward",) and cfg.tag_keys["team"] == ("Team", "team")
    r = role("svc", {"Steward": "kim", "Owner": "ignored"})
    view = SnapshotView.build([r], [])
    assert resolve_owners(view, cfg)[r.id].name == "kim"
    with pytest.raises(ConfigError, match="unknown key"):
        load_owner_config({"ownership": {"owner_tags": ["x"]}})
    with pytest.raises(ConfigError, match="priority"):
        load_owner_config({"priority": ["owner", "bogus"]})


def test_mapping_rule_regex_slashes() -> None:
    assert MappingRule("/etl-[0-9]+/", "x").match(role("nightly-etl-42")) == "id"


def test_config_accepts_a_whole_config_without_the_section() -> None:
    from agentreach.config import load_config

    assert load_owner_config(load_config()) == CFG
