"""Lifecycle facts: exact thresholds, never-used grace, per-key judgement, expiry, rotation."""

from __future__ import annotations

import datetime as dt

import pytest

from agentreach.lifecycle import Lifecycle, LifecycleConfig, lifecycle_facts, load_lifecycle_config
from agentreach.model import Credential, CredentialStatus, Edge, EdgeKind, Identity, Node, System, node_id
from agentreach.view import SnapshotView

ACCT = "111122223333"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
CFG = load_lifecycle_config(None)


def ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def user(name: str, last_used: dt.datetime | None = None, created: dt.datetime | None = None) -> Identity:
    arn = f"arn:aws:iam::{ACCT}:user/{name}"
    return Identity(id=node_id("aws", "iam_user", arn), provider="aws", source="aws", type="aws_iam_user",
                    name=name, native_id=arn, account=ACCT, created=created or ago(400), last_used=last_used,
                    attrs={"last_used_source": "credential_report"})


def access_key(key_id: str, owner: Identity, *, slot: int = 1, created: dt.datetime | None = None,
               last_used: dt.datetime | None = None, active: bool = True) -> tuple[Credential, Edge]:
    cred = Credential(id=node_id("aws", "access_key", key_id), provider="aws", source="aws", type="aws_access_key",
                      name=key_id, native_id=key_id, account=ACCT, created=created or ago(30), last_used=last_used,
                      status=CredentialStatus.ACTIVE if active else CredentialStatus.DISABLED,
                      attrs={"user": owner.name, "slot": slot, "last_used_source": "credential_report"})
    return cred, Edge(src=cred.id, dst=owner.id, kind=EdgeKind.AUTHENTICATES, source="aws")


def facts(nodes: list[Node], edges: list[Edge] = (), cfg: LifecycleConfig = CFG) -> dict[str, Lifecycle]:
    return lifecycle_facts(SnapshotView.build(nodes, [e.to_dict() for e in edges]), NOW, cfg)


@pytest.mark.parametrize(("days", "unused"), [(44, False), (45, False), (46, True)])
def test_unused_boundary_is_strictly_more_than_n_days(days: int, unused: bool) -> None:
    u = user("svc", last_used=ago(days))
    k, e = access_key("AKIAEXAMPLE000000001", u, created=ago(60), last_used=ago(days))
    out = facts([u, k], [e])
    assert ("unused" in out[k.id].codes()) is unused
    assert out[k.id].value is unused
    assert ("identity_unused" in out[u.id].codes()) is unused
    assert out[k.id].facts["days_since_last_used"] == days
    if unused:
        reason = next(r for r in out[k.id].reasons if r.code == "unused")
        assert reason.days == 46 and "46 days" in reason.detail


@pytest.mark.parametrize(("age", "codes", "stale"), [
    (3, set(), False),                        # within grace
    (7, set(), False),                        # grace boundary: not past it
    (8, {"never_used"}, True),                # past grace, not yet 45 days
    (45, {"never_used"}, True),
    (46, {"never_used", "unused"}, True),     # counts from creation
])
def test_never_used_key_on_programmatic_user(age: int, codes: set[str], stale: bool) -> None:
    u = user("etl-bot")
    k, e = access_key("AKIAEXAMPLE000000002", u, created=ago(age))
    out = facts([u, k], [e])[k.id]
    assert out.codes() == codes and out.value is stale
    assert out.facts.get("within_grace", False) is (age <= 7)


def test_key2_unused_while_key1_inactive_is_judged_on_its_own() -> None:
    u = user("svc", last_used=ago(200))
    k1, e1 = access_key("AKIAEXAMPLE000000003", u, slot=1, created=ago(300), last_used=ago(200), active=False)
    k2, e2 = access_key("AKIAEXAMPLE000000004", u, slot=2, created=ago(100), last_used=ago(60))
    out = facts([u, k1, k2], [e1, e2])
    assert "unused" in out[k2.id].codes() and out[k2.id].value
    assert "two_active_keys" not in out[k2.id].codes()
    assert out[k1.id].codes() == set() and not out[k1.id].value  # disabled: already remedied


def test_two_active_keys_flag_both() -> None:
    u = user("svc", last_used=ago(1))
    k1, e1 = access_key("AKIAEXAMPLE000000005", u, slot=1, last_used=ago(1))
    k2, e2 = access_key("AKIAEXAMPLE000000006", u, slot=2, last_used=ago(2))
    other = user("other", last_used=ago(1))
    k3, e3 = access_key("AKIAEXAMPLE000000007", other, last_used=ago(1))
    out = facts([u, k1, k2, other, k3], [e1, e2, e3])
    assert "two_active_keys" in out[k1.id].codes() and "two_active_keys" in out[k2.id].codes()
    assert "two_active_keys" not in out[k3.id].codes()
    assert not out[k1.id].value  # a fact, not staleness
    assert "AKIAEXAMPLE000000006" in next(r.detail for r in out[k1.id].reasons if r.code == "two_active_keys")


@pytest.mark.parametrize(("age", "overdue"), [(90, False), (91, True)])
def test_rotation_overdue(age: int, overdue: bool) -> None:
    u = user("svc", last_used=ago(1))
    k, e = access_key("AKIAEXAMPLE000000008", u, created=ago(age), last_used=ago(1))
    out = facts([u, k], [e])[k.id]
    assert ("rotation_overdue" in out.codes()) is overdue and not out.value


def api_key(name: str, created: dt.datetime, expires: dt.datetime, type_: str = "aws_bedrock_api_key",
            status: CredentialStatus = CredentialStatus.ACTIVE) -> Credential:
    return Credential(id=node_id("aws", "service_credential", name), provider="aws", source="aws", type=type_,
                      name=name, native_id=name, account=ACCT, created=created, expires=expires, status=status,
                      attrs={"service": "bedrock.amazonaws.com", "user": "BedrockAPIKey_x", "last_used_source": None})


def test_expired_expiring_and_lifetime() -> None:
    expired = api_key("ACCA1", ago(40), ago(10))
    expiring = api_key("ACCA2", ago(10), NOW + dt.timedelta(days=30))
    not_yet = api_key("ACCA3", ago(10), NOW + dt.timedelta(days=31))
    long_lived = Credential(id="azure:client_secret:k1", provider="azure", source="azure", type="azure_client_secret",
                            name="ci secret", created=ago(10), expires=NOW + dt.timedelta(days=720))
    cert = api_key("cert", ago(10), NOW + dt.timedelta(days=385), type_="aws_acm_certificate")
    out = facts([expired, expiring, not_yet, long_lived, cert])
    assert out[expired.id].codes() == {"expired"} and out[expired.id].reasons[0].days == 10
    assert out[expiring.id].codes() == {"expiring"} and out[expiring.id].reasons[0].days == 30
    assert out[not_yet.id].codes() == set()
    assert out[long_lived.id].codes() == {"lifetime_too_long"}
    assert out[long_lived.id].reasons[0].days == 730
    assert out[cert.id].codes() == set()  # certificate lifetimes follow CA rules
    # Bedrock API keys report no last use: never called unused
    assert not any(v.value for v in out.values())
    assert out[expiring.id].facts["last_use_tracked"] is False


def test_a_secret_with_no_end_date_never_expires() -> None:
    """Entra issues client secrets with an end date; one without never expires (Prowler's
    entra_app_registration_credential_not_expired fails it). Access keys have none by design."""
    forever = Credential(id="azure:client_secret:k2", provider="azure", source="azure", type="azure_client_secret",
                         name="legacy secret", created=ago(10), expires=None)
    disabled = Credential(id="azure:client_secret:k3", provider="azure", source="azure", type="azure_client_secret",
                          name="old secret", created=ago(10), expires=None, status=CredentialStatus.DISABLED)
    u = user("svc", last_used=ago(1))
    k, e = access_key("AKIAEXAMPLE000000009", u, created=ago(10), last_used=ago(1))
    out = facts([forever, disabled, u, k], [e])
    assert out[forever.id].codes() == {"no_expiry"} and not out[forever.id].value
    assert out[disabled.id].codes() == set() and out[k.id].codes() == set()



def iso(d: dt.datetime | None) -> str | None:
    return d.isoformat().replace("+00:00", "Z") if d else None


def secret(name: str, created: dt.datetime, enabled: bool, last_rotated: dt.datetime | None = None,
           last_accessed: dt.datetime | None = None) -> System:
    arn = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:{name}"
    return System(id=node_id("aws", "secret", arn), provider="aws", source="aws", type="aws_secretsmanager_secret",
                  name=name, native_id=arn, account=ACCT, created=created,
                  attrs={"rotation": {"enabled": enabled, "interval_days": 30 if enabled else None,
                                      "last_rotated": iso(last_rotated)},
                         "last_accessed": iso(last_accessed)})


def test_never_rotated_secret() -> None:
    old = secret("db/old", ago(200), False, last_accessed=ago(1))
    young = secret("db/young", ago(20), False, last_accessed=ago(1))
    rotating = secret("db/rotating", ago(400), True, last_rotated=ago(10), last_accessed=ago(1))
    rotated_once = secret("db/once", ago(400), False, last_rotated=ago(95), last_accessed=ago(1))
    unread = secret("db/unread", ago(100), True, last_rotated=ago(5))
    out = facts([old, young, rotating, rotated_once, unread])
    assert out[old.id].codes() == {"never_rotated"} and out[old.id].reasons[0].days == 200
    assert not out[old.id].value
    assert out[young.id].codes() == set() and out[rotating.id].codes() == set()
    assert out[rotated_once.id].codes() == {"never_rotated"} and "last rotated 95" in out[rotated_once.id].reasons[0].detail
    assert {"never_used", "unused"} <= out[unread.id].codes() and out[unread.id].value


def role(name: str, created: dt.datetime, last_used: dt.datetime | None, source: str | None = "role_last_used"
         ) -> Identity:
    arn = f"arn:aws:iam::{ACCT}:role/{name}"
    return Identity(id=node_id("aws", "iam_role", arn), provider="aws", source="aws", type="aws_iam_role", name=name,
                    native_id=arn, account=ACCT, created=created, last_used=last_used,
                    attrs={"last_used_source": source})


def test_role_unused_by_role_last_used() -> None:
    idle = role("idle", ago(300), ago(46))
    busy = role("busy", ago(300), ago(45))
    never = role("never", ago(60), None)
    unknown = role("unknown", ago(300), None, source=None)  # RoleLastUsed could not be read
    group = Identity(id="aws:iam_group:g", provider="aws", source="aws", type="aws_iam_group", name="g",
                     created=ago(900))
    out = facts([idle, busy, never, unknown, group])
    assert out[idle.id].codes() == {"identity_unused"} and out[idle.id].value
    assert out[busy.id].codes() == set()
    assert out[never.id].codes() == {"never_used", "identity_unused"}
    assert out[unknown.id].codes() == set() and out[unknown.id].facts["last_use_tracked"] is False
    assert out[group.id].codes() == set()


def test_to_dict_and_config_override() -> None:
    u = user("svc", last_used=ago(50))
    cfg = load_lifecycle_config({"lifecycle": {"unused_days": 60}})
    assert cfg.unused_days == 60 and cfg.rotation_days == 90
    d = facts([u], cfg=cfg)[u.id].to_dict()
    assert d == {"value": False, "reasons": [], "facts": d["facts"]} and d["facts"]["days_since_last_used"] == 50
    d = facts([u])[u.id].to_dict()
    assert d["value"] is True and d["reasons"][0]["code"] == "identity_unused" and d["reasons"][0]["days"] == 50


def test_disabled_key_is_not_expiring_and_never_used_without_created_is_a_fact() -> None:
    off = api_key("ACCA9", ago(10), NOW + dt.timedelta(days=5), status=CredentialStatus.DISABLED)
    u = user("svc", last_used=ago(1))
    k = Credential(id="aws:access_key:AKIAEXAMPLE000000009", provider="aws", source="aws", type="aws_access_key",
                   name="AKIAEXAMPLE000000009", attrs={"last_used_source": "credential_report"})
    out = facts([off, u, k])
    assert out[off.id].codes() == set()
    assert out[k.id].codes() == set() and out[k.id].facts["never_used_age_unknown"] is True
