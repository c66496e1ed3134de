"""The pure half of the AWS connector, on answers shaped as real AWS gives them (moto
leaves some fields out: PolicyName in GAAD, the service and region of a key's last use)."""

from __future__ import annotations

import datetime as dt

from agentreach_connectors.aws import iam
from agentreach_connectors.aws.policies import parse_policy

from agentreach.model import Credential, Identity, Policy

ACCOUNT = "111122223333"
UTC = dt.timezone.utc


def report_row(user: str, arn: str, **cols: str) -> dict[str, str]:
    row = {c: "N/A" for c in (
        "password_last_used", "password_last_changed", "password_next_rotation",
        "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region",
        "access_key_1_last_used_service", "access_key_2_last_rotated", "access_key_2_last_used_date",
        "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_last_rotated",
        "cert_2_last_rotated")}
    row.update({"user": user, "arn": arn, "user_creation_time": "2024-01-01T00:00:00+00:00",
                "password_enabled": "false", "mfa_active": "false", "access_key_1_active": "false",
                "access_key_2_active": "false", "cert_1_active": "false", "cert_2_active": "false"})
    row.update(cols)
    return row


def raw_with_user() -> iam.IamRaw:
    arn = f"arn:aws:iam::{ACCOUNT}:user/bot"
    raw = iam.IamRaw(account=ACCOUNT)
    raw.users = [{"UserName": "bot", "Arn": arn, "UserId": "AIDA1", "Path": "/",
                  "CreateDate": dt.datetime(2024, 1, 1, tzinfo=UTC), "GroupList": [],
                  "AttachedManagedPolicies": [], "UserPolicyList": [
                      {"PolicyName": "broken", "PolicyDocument": "{not json"}], "Tags": []}]
    raw.report = [
        report_row("bot", arn, access_key_1_active="true",
                   access_key_1_last_rotated="2024-02-01T10:00:00+00:00",
                   access_key_1_last_used_date="2026-11-01T09:00:00+00:00",
                   access_key_1_last_used_region="eu-west-1", access_key_1_last_used_service="bedrock",
                   access_key_2_active="false", access_key_2_last_rotated="2025-03-01T10:00:00+00:00"),
        report_row("<root_account>", f"arn:aws:iam::{ACCOUNT}:root", password_enabled="not_supported",
                   access_key_1_active="true", access_key_1_last_rotated="2020-01-01T00:00:00+00:00"),
    ]
    raw.access_keys = {"bot": [
        {"AccessKeyId": "AKIAKEYONE0000000001", "Status": "Active", "CreateDate": dt.datetime(2024, 2, 1, 10, tzinfo=UTC)},
        {"AccessKeyId": "AKIAKEYTWO0000000002", "Status": "Inactive", "CreateDate": dt.datetime(2025, 3, 1, 10, tzinfo=UTC)},
    ]}
    return raw


def test_report_slots_give_keys_their_last_use_with_service_and_region() -> None:
    records = list(iam.transform(raw_with_user()))
    keys = {r.native_id: r for r in records if isinstance(r, Credential) and r.type == "aws_access_key"}
    one, two = keys["AKIAKEYONE0000000001"], keys["AKIAKEYTWO0000000002"]
    assert one.last_used == dt.datetime(2026, 11, 1, 9, tzinfo=UTC)
    assert one.last_used_detail == "bedrock in eu-west-1"
    assert one.attrs["last_used_source"] == "credential_report" and one.attrs["slot"] == 1
    assert two.last_used is None and two.status.value == "disabled" and two.attrs["slot"] == 2
    user = next(r for r in records if isinstance(r, Identity) and r.name == "bot")
    assert user.last_used == one.last_used and user.last_used_detail == "access key AKIAKEYONE0000000001"


def test_root_keys_are_credentials_even_without_a_visible_key_id() -> None:
    records = list(iam.transform(raw_with_user()))
    root_keys = [r for r in records if isinstance(r, Credential) and r.attrs.get("user") == "<root_account>"]
    assert len(root_keys) == 1 and root_keys[0].attrs["key_id_unknown"]
    assert root_keys[0].status.value == "active"


def test_keys_of_a_user_whose_listing_was_denied_still_show() -> None:
    raw = raw_with_user()
    raw.access_keys = {}
    raw.keys_unlisted = {"bot"}
    keys = [r for r in iam.transform(raw) if isinstance(r, Credential) and r.attrs.get("user") == "bot"]
    assert sorted(k.attrs["slot"] for k in keys) == [1, 2]
    assert all(k.attrs["key_id_unknown"] and k.native_id is None for k in keys)


def test_malformed_policy_is_kept_as_a_marker_naming_the_object() -> None:
    user = next(r for r in iam.transform(raw_with_user()) if isinstance(r, Identity) and r.name == "bot")
    doc = user.attrs["inline_policies"][0]["document"]
    assert doc["_unparsed"] and "inline policy broken of arn:aws:iam::111122223333:user/bot" in doc["_error"]
    assert parse_policy("%7B%22Version%22%3A%222012-10-17%22%7D", "x") == {"Version": "2012-10-17"}


def test_managed_policy_without_policy_name_as_moto_returns_it() -> None:
    raw = iam.IamRaw(account=ACCOUNT)
    raw.policies = [{"Arn": f"arn:aws:iam::{ACCOUNT}:policy/team/AgentInvoke", "AttachmentCount": 1,
                     "DefaultVersionId": "v2", "PolicyVersionList": [
                         {"VersionId": "v1", "IsDefaultVersion": False, "Document": {"Statement": []}},
                         {"VersionId": "v2", "IsDefaultVersion": True,
                          "Document": {"Statement": [{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]}}]},
                    {"Arn": "arn:aws:iam::aws:policy/Unused", "AttachmentCount": 0, "PolicyVersionList": []}]
    policies = [r for r in iam.transform(raw) if isinstance(r, Policy)]
    assert [p.name for p in policies] == ["AgentInvoke"]  # AWS's unattached ones are left out
    assert policies[0].document["Statement"][0]["Action"] == "bedrock:*"
