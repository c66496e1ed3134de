"""The demo estate seeds into an in-process moto server and reads back as designed."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import io
import json
import logging
import re
import time
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")

from agentreach_testing.demo.seed import (  # noqa: E402
    ESTATE_PATH,
    EstateError,
    SeededEstate,
    _fake_secret,
    _when,
    load_estate,
    seed_estate,
)

UTC = dt.timezone.utc
PLATFORM = "123456789012"
ML_PROD = "210987654321"
ISO = "%Y-%m-%dT%H:%M:%S+00:00"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def world():
    """A moto server in this process, seeded once for the module."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as mp:
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
                    "AWS_ENDPOINT_URL", "MOTO_ACCOUNT_ID"):
            mp.delenv(var, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
        with contextlib.redirect_stdout(io.StringIO()):  # moto announces its thread
            server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        now = dt.datetime.now(UTC)

        out = io.StringIO()
        collected = _Collect()
        logging.getLogger().addHandler(collected)
        started = time.monotonic()
        try:
            with contextlib.redirect_stdout(out):
                estate = seed_estate(endpoint, now=now)
        finally:
            logging.getLogger().removeHandler(collected)
        elapsed = time.monotonic() - started
        try:
            yield {"estate": estate, "endpoint": endpoint, "now": now.replace(microsecond=0),
                   "stdout": out.getvalue(), "log": collected.records, "elapsed": elapsed,
                   "session": boto3.session.Session(aws_access_key_id="testing",
                                                    aws_secret_access_key="testing"),
                   "clients": {}, "creds": {}}
        finally:
            server.stop()


def _client(world, service: str, account: str = PLATFORM, region: str = "us-east-1"):
    """A client in ``account`` through the scanner's read-only role, as the scanner works."""
    cache = world["clients"]
    if (service, account, region) in cache:
        return cache[(service, account, region)]
    base = world["session"]
    if account not in world["creds"]:
        world["creds"][account] = base.client(
            "sts", endpoint_url=world["endpoint"], region_name="us-east-1").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{world['estate'].readonly_role}",
            RoleSessionName="agentreach-test")["Credentials"]
    creds = world["creds"][account]
    cache[(service, account, region)] = base.client(
        service, endpoint_url=world["endpoint"], region_name=region,
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"])
    return cache[(service, account, region)]


def _iso(value: dt.datetime | None) -> str:
    return "N/A" if value is None else value.strftime(ISO)


def _credential_report(world, account: str) -> dict[str, dict[str, str]]:
    iam = _client(world, "iam", account)
    iam.generate_credential_report()
    text = iam.get_credential_report()["Content"].decode()
    return {row["user"]: row for row in csv.DictReader(io.StringIO(text))}


# --------------------------------------------------------------------------------------
# Seeding itself


def test_seeding_is_quiet_and_quick(world):
    assert world["stdout"] == ""
    assert [r.getMessage() for r in world["log"]] == []
    assert world["elapsed"] < 30, f"seeding took {world['elapsed']:.1f}s"


def test_seeded_estate_api(world):
    estate: SeededEstate = world["estate"]
    assert estate.accounts == {PLATFORM: "platform", ML_PROD: "ml-prod"}
    assert list(estate.accounts) == [PLATFORM, ML_PROD]
    assert estate.readonly_role == "agentreach-readonly"
    assert set(estate.expected["accounts"]) == {PLATFORM, ML_PROD}
    assert estate.expected["regions"] == ["eu-west-1", "us-east-1"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        estate.canaries = []  # type: ignore[misc]


def test_readonly_role_in_both_accounts(world):
    for account in (PLATFORM, ML_PROD):
        iam = _client(world, "iam", account)
        assert _client(world, "sts", account).get_caller_identity()["Account"] == account
        role = iam.get_role(RoleName="agentreach-readonly")["Role"]
        principals = [s["Principal"]["AWS"] for s in role["AssumeRolePolicyDocument"]["Statement"]]
        assert principals == [f"arn:aws:iam::{PLATFORM}:root"]
        doc = iam.get_role_policy(RoleName="agentreach-readonly",
                                  PolicyName="agentreach-readonly")["PolicyDocument"]
        deny = [s for s in doc["Statement"] if s["Effect"] == "Deny"][0]
        assert "secretsmanager:GetSecretValue" in deny["Action"]
    # the seeder's entry role is not part of the estate
    names = {r["RoleName"] for r in _client(world, "iam", ML_PROD).list_roles()["Roles"]}
    assert "OrganizationAccountAccessRole" not in names


# --------------------------------------------------------------------------------------
# Identities and their dates


def test_platform_identities(world):
    exp = world["estate"].expected["accounts"][PLATFORM]
    iam = _client(world, "iam")
    users = {u["UserName"] for u in iam.list_users()["Users"]}
    assert users == set(exp["users"]) == {
        "alice", "support-agent-svc", "langchain-bot", "ci-deploy", "bedrock-api-user",
        "mcp-github-bot", "etl-scheduler"}
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert roles == set(exp["roles"])
    assert {"support-agent-exec", "research-agent-runtime", "agent-tools-lambda",
            "rag-worker-task", "batch-ec2", "legacy-admin", "glue-etl",
            "agentreach-readonly"} <= roles

    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName="mcp-github-bot")["Tags"]}
    assert tags == {"owner": "carol@example.com"}
    assert iam.list_user_tags(UserName="langchain-bot")["Tags"] == []
    assert iam.list_role_tags(RoleName="legacy-admin")["Tags"] == []

    assert iam.get_login_profile(UserName="alice")["LoginProfile"]["UserName"] == "alice"
    assert len(iam.list_mfa_devices(UserName="alice")["MFADevices"]) == 1
    group = iam.get_group(GroupName="ml-engineers")
    assert [u["UserName"] for u in group["Users"]] == ["alice"]
    attached = iam.list_attached_group_policies(GroupName="ml-engineers")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AgentBedrockInvoke"]

    keys = {u: iam.list_access_keys(UserName=u)["AccessKeyMetadata"] for u in exp["users"]}
    assert [k["Status"] for k in keys["langchain-bot"]] == ["Active", "Active"]
    assert [k["Status"] for k in keys["mcp-github-bot"]] == ["Inactive"]
    assert keys["alice"] == [] and keys["bedrock-api-user"] == []


def test_access_key_dates_via_api(world):
    now = world["now"]
    for account, exp in world["estate"].expected["accounts"].items():
        iam = _client(world, "iam", account)
        for user, uexp in exp["users"].items():
            listed = {k["AccessKeyId"]: k for k in
                      iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
            assert set(listed) == {k["id"] for k in uexp["access_keys"]}
            for key in uexp["access_keys"]:
                assert listed[key["id"]]["CreateDate"] == key["created"]
                assert key["id"].startswith("AKIA")
                used = iam.get_access_key_last_used(AccessKeyId=key["id"])["AccessKeyLastUsed"]
                if key["last_used"] is None:
                    assert used.get("LastUsedDate") is None
                else:
                    assert used["LastUsedDate"] == key["last_used"]
                    assert used["ServiceName"] == key["service"]
                    assert used["Region"] == key["region"]
    svc = world["estate"].expected["accounts"][PLATFORM]["users"]["support-agent-svc"]
    (key,) = svc["access_keys"]
    assert key["created"] == now - dt.timedelta(days=20)
    assert key["last_used"] == now - dt.timedelta(days=1)
    assert key["service"] == "bedrock"


def test_credential_report_shows_backdated_dates(world):
    now = world["now"]
    for account, exp in world["estate"].expected["accounts"].items():
        report = _credential_report(world, account)
        for user, uexp in exp["users"].items():
            row = report[user]
            assert row["user_creation_time"] == _iso(uexp["created"])
            assert row["mfa_active"] == ("true" if uexp["mfa"] else "false")
            keys = uexp["access_keys"]
            for slot in (1, 2):
                key = keys[slot - 1] if len(keys) >= slot else None
                if key is None:
                    assert row[f"access_key_{slot}_active"] == "false"
                    continue
                assert row[f"access_key_{slot}_active"] == str(key["status"] == "Active").lower()
                assert row[f"access_key_{slot}_last_rotated"] == _iso(key["created"])
                assert row[f"access_key_{slot}_last_used_date"] == _iso(key["last_used"])
    report = _credential_report(world, PLATFORM)
    assert report["alice"]["password_enabled"] == "true"
    assert report["alice"]["password_last_used"] == _iso(now - dt.timedelta(days=1))
    bot = report["langchain-bot"]
    assert bot["access_key_1_last_rotated"] == _iso(now - dt.timedelta(days=400))
    assert bot["access_key_1_last_used_date"] == "N/A"
    assert bot["access_key_2_last_rotated"] == _iso(now - dt.timedelta(days=200))
    assert bot["access_key_2_last_used_date"] == _iso(now - dt.timedelta(days=150))
    assert report["ci-deploy"]["access_key_1_last_used_date"] == _iso(now - dt.timedelta(days=2))


def test_role_dates_via_get_role_and_authorization_details(world):
    now = world["now"]
    for account, exp in world["estate"].expected["accounts"].items():
        iam = _client(world, "iam", account)
        details = {}
        for page in iam.get_paginator("get_account_authorization_details").paginate():
            details.update({r["RoleName"]: r for r in page["RoleDetailList"]})
            details.update({("user", u["UserName"]): u for u in page["UserDetailList"]})
        for name, rexp in exp["roles"].items():
            role = iam.get_role(RoleName=name)["Role"]
            assert role["CreateDate"] == rexp["created"] == details[name]["CreateDate"]
            if name == world["estate"].readonly_role:
                # moto stamps a role "last used" whenever its session credentials sign a
                # request, and this test reads through that role.
                continue
            if rexp["last_used"] is None:
                assert role["RoleLastUsed"].get("LastUsedDate") is None
            else:
                assert role["RoleLastUsed"]["LastUsedDate"] == rexp["last_used"]
                assert role["RoleLastUsed"]["Region"] == rexp["last_used_region"]
                assert details[name]["RoleLastUsed"]["LastUsedDate"] == rexp["last_used"]
        for name, uexp in exp["users"].items():
            assert details[("user", name)]["CreateDate"] == uexp["created"]

    iam = _client(world, "iam")
    legacy = iam.get_role(RoleName="legacy-admin")["Role"]
    assert legacy["RoleLastUsed"]["LastUsedDate"] == now - dt.timedelta(days=500)
    assert iam.get_user(UserName="alice")["User"]["PasswordLastUsed"] == now - dt.timedelta(days=1)
    research = iam.get_role(RoleName="research-agent-runtime")["Role"]
    assert research["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(
        ":policy/AgentPermissionsBoundary")
    exec_role = iam.get_role(RoleName="support-agent-exec")["Role"]
    stmt = exec_role["AssumeRolePolicyDocument"]["Statement"][0]
    assert stmt["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert stmt["Condition"]["StringEquals"] == {"aws:SourceAccount": PLATFORM}
    attached = {p["PolicyName"] for p in
                iam.list_attached_role_policies(RoleName="support-agent-exec")["AttachedPolicies"]}
    assert attached == {"AgentBedrockInvoke", "CrownJewelRead"}


def test_crown_jewel_policy_names_real_resources(world):
    exp = world["estate"].expected["accounts"][PLATFORM]
    iam = _client(world, "iam")
    arn = exp["managed_policies"]["CrownJewelRead"]
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    if isinstance(doc, str):
        doc = json.loads(doc)
    resources = json.dumps(doc)
    assert exp["tables"]["customer-orders"]["arn"] in resources
    assert exp["kms_keys"]["pii"]["arn"] in resources
    assert exp["secrets"]["prod/db/password"]["arn"] in resources
    assert "arn:aws:s3:::acme-customer-pii/*" in resources
    assert "${" not in resources


# --------------------------------------------------------------------------------------
# Data stores


def test_data_stores(world):
    exp = world["estate"].expected["accounts"][PLATFORM]
    s3 = _client(world, "s3")
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {"acme-customer-pii", "acme-public-assets"} <= buckets
    tags = {t["Key"]: t["Value"] for t in
            s3.get_bucket_tagging(Bucket="acme-customer-pii")["TagSet"]}
    assert tags["data-classification"] == "restricted"
    policy = json.loads(s3.get_bucket_policy(Bucket="acme-customer-pii")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": exp["roles"]["support-agent-exec"]["arn"]}
    assert policy["Statement"][0]["Action"] in ("s3:GetObject", ["s3:GetObject"])

    table = _client(world, "dynamodb").describe_table(TableName="customer-orders")["Table"]
    assert table["TableArn"] == exp["tables"]["customer-orders"]["arn"]

    kms = _client(world, "kms")
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/pii"] == exp["kms_keys"]["pii"]["key_id"]
    key_policy = json.loads(kms.get_key_policy(KeyId=exp["kms_keys"]["pii"]["key_id"],
                                               PolicyName="default")["Policy"])
    assert exp["roles"]["support-agent-exec"]["arn"] in json.dumps(key_policy)


def test_secrets_in_two_regions_with_rotation(world):
    now = world["now"]
    exp = world["estate"].expected["accounts"][PLATFORM]["secrets"]
    east = _client(world, "secretsmanager")
    west = _client(world, "secretsmanager", region="eu-west-1")
    assert {s["Name"] for s in east.list_secrets()["SecretList"]} == {
        "prod/openai/api-key", "prod/db/password"}
    assert {s["Name"] for s in west.list_secrets()["SecretList"]} == {"prod/zendesk/api-token"}
    assert exp["prod/zendesk/api-token"]["region"] == "eu-west-1"

    openai = east.describe_secret(SecretId="prod/openai/api-key")
    assert not openai.get("RotationEnabled")
    assert openai["CreatedDate"] == now - dt.timedelta(days=300)
    policy = json.loads(east.get_resource_policy(SecretId="prod/openai/api-key")["ResourcePolicy"])
    assert policy["Statement"][0]["Action"] == "secretsmanager:GetSecretValue"

    db = east.describe_secret(SecretId="prod/db/password")
    assert db["RotationEnabled"] is True
    assert db["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert db["RotationLambdaARN"].endswith(":function:orders-db-rotation")
    assert db["LastRotatedDate"] == now - dt.timedelta(days=12)
    pii_key = world["estate"].expected["accounts"][PLATFORM]["kms_keys"]["pii"]["arn"]
    assert db["KmsKeyId"] == pii_key
    value = json.loads(east.get_secret_value(SecretId="prod/db/password")["SecretString"])
    assert value["password"].startswith("DEMOCANARY-")


# --------------------------------------------------------------------------------------
# Agents and compute


def test_agents_and_their_runtimes(world):
    exp = world["estate"].expected["accounts"][PLATFORM]
    secret = _client(world, "secretsmanager").get_secret_value(
        SecretId="prod/openai/api-key")["SecretString"]

    lam = _client(world, "lambda")
    assert {f["FunctionName"] for f in lam.list_functions()["Functions"]} == {
        "support-agent-tools", "thumbnailer", "orders-db-rotation"}
    tools = lam.get_function_configuration(FunctionName="support-agent-tools")
    assert tools["Role"] == exp["roles"]["agent-tools-lambda"]["arn"]
    assert tools["Environment"]["Variables"] == {"OPENAI_API_KEY": secret, "LOG_LEVEL": "info"}
    stmt = json.loads(lam.get_policy(FunctionName="support-agent-tools")["Policy"])["Statement"][0]
    assert stmt["Principal"] == {"Service": "bedrock.amazonaws.com"}
    agent_arn = exp["bedrock_agents"]["support-agent"]["arn"]
    assert stmt["Condition"]["ArnLike"]["AWS:SourceArn"] == agent_arn

    agent = _client(world, "bedrock-agent").get_agent(
        agentId=exp["bedrock_agents"]["support-agent"]["id"])["agent"]
    assert agent["agentResourceRoleArn"] == exp["roles"]["support-agent-exec"]["arn"]
    assert agent["foundationModel"].startswith("anthropic.claude-3-5-sonnet")

    ac = _client(world, "bedrock-agentcore-control")
    runtime = ac.get_agent_runtime(agentRuntimeId=exp["agentcore_runtimes"]["research_agent"]["id"])
    assert runtime["roleArn"] == exp["roles"]["research-agent-runtime"]["arn"]
    anthropic_key = runtime["environmentVariables"]["ANTHROPIC_API_KEY"]
    assert anthropic_key.startswith("sk-ant-api03-DEMOCANARY")
    assert anthropic_key in world["estate"].canaries
    gateway = exp["agentcore_gateways"]["tools-gateway"]
    got = ac.get_gateway(gatewayIdentifier=gateway["id"])
    assert got["roleArn"] == exp["roles"]["agentcore-gateway"]["arn"]
    targets = ac.list_gateway_targets(gatewayIdentifier=gateway["id"])["items"]
    assert [t["name"] for t in targets] == ["support-tools"]

    ecs = _client(world, "ecs")
    td = ecs.describe_task_definition(taskDefinition="rag-worker")["taskDefinition"]
    assert td["taskRoleArn"] == exp["roles"]["rag-worker-task"]["arn"]
    env = {e["name"]: e["value"] for e in td["containerDefinitions"][0]["environment"]}
    assert env["LANGSMITH_PROJECT"] == "rag"
    assert env["ANTHROPIC_API_KEY"] in world["estate"].canaries

    ec2 = _client(world, "ec2")
    (reservation,) = ec2.describe_instances()["Reservations"]
    (instance,) = reservation["Instances"]
    assert instance["InstanceId"] == exp["ec2_instances"]["batch-worker-1"]["id"]
    assert instance["State"]["Name"] == "running"
    assert instance["IamInstanceProfile"]["Arn"].endswith(":instance-profile/batch-ec2")
    profile = _client(world, "iam").get_instance_profile(InstanceProfileName="batch-ec2")
    assert [r["RoleName"] for r in profile["InstanceProfile"]["Roles"]] == ["batch-ec2"]


def test_certificates(world):
    now = world["now"]
    exp = world["estate"].expected["accounts"][PLATFORM]
    acm = _client(world, "acm")
    listed = {c["DomainName"]: c for c in acm.list_certificates(
        CertificateStatuses=["ISSUED", "EXPIRED"])["CertificateSummaryList"]}
    assert set(listed) == {"support.acme.example", "legacy-api.acme.example"}
    old = acm.describe_certificate(
        CertificateArn=exp["acm_certificates"]["legacy-api.acme.example"]["arn"])["Certificate"]
    assert old["Status"] == "EXPIRED"
    assert old["NotAfter"] == now - dt.timedelta(days=10)
    assert old["ImportedAt"] == now - dt.timedelta(days=370)
    new = acm.describe_certificate(
        CertificateArn=exp["acm_certificates"]["support.acme.example"]["arn"])["Certificate"]
    assert new["Status"] == "ISSUED"
    assert new["NotAfter"] == now + dt.timedelta(days=200)
    assert set(new["SubjectAlternativeNames"]) == {"support.acme.example", "help.acme.example"}
    server = _client(world, "iam").list_server_certificates()["ServerCertificateMetadataList"]
    assert [c["ServerCertificateName"] for c in server] == ["legacy-elb-cert"]


def test_ml_prod_account(world):
    now = world["now"]
    exp = world["estate"].expected["accounts"][ML_PROD]
    iam = _client(world, "iam", ML_PROD)
    assert {u["UserName"] for u in iam.list_users()["Users"]} == {"notebook-agent"}
    assert {r["RoleName"] for r in iam.list_roles()["Roles"]} == {
        "sagemaker-exec", "training-data-reader", "agentreach-readonly"}
    (key,) = exp["users"]["notebook-agent"]["access_keys"]
    used = iam.get_access_key_last_used(AccessKeyId=key["id"])["AccessKeyLastUsed"]
    assert used["LastUsedDate"] == now - dt.timedelta(days=10)
    assert used["ServiceName"] == "sagemaker"
    listed = iam.list_access_keys(UserName="notebook-agent")["AccessKeyMetadata"]
    assert listed[0]["CreateDate"] == now - dt.timedelta(days=60)
    reader = iam.get_role(RoleName="training-data-reader")["Role"]
    assert reader["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{PLATFORM}:role/rag-worker-task"}
    s3 = _client(world, "s3", ML_PROD)
    assert "ml-training-data" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    hf = _client(world, "secretsmanager", ML_PROD).get_secret_value(SecretId="hf/token")
    assert re.fullmatch(r"hf_DEMOCANARY[0-9A-Za-z]{24}", hf["SecretString"])
    # nothing of platform leaked into ml-prod
    assert _client(world, "lambda", ML_PROD).list_functions()["Functions"] == []


# --------------------------------------------------------------------------------------
# Canaries and the fake service-specific credentials


def test_canaries_cover_every_planted_secret(world):
    estate = world["estate"]
    canaries = estate.canaries
    assert canaries and len(canaries) == len(set(canaries))
    for account, exp in estate.expected["accounts"].items():
        for name, sexp in exp["secrets"].items():
            sm = _client(world, "secretsmanager", account, sexp["region"])
            assert sm.get_secret_value(SecretId=name)["SecretString"] in canaries
    lam = _client(world, "lambda")
    env = lam.get_function_configuration(FunctionName="support-agent-tools")["Environment"]
    assert env["Variables"]["OPENAI_API_KEY"] in canaries
    assert "info" not in canaries  # settings are not secrets
    keys = [c for c in canaries if c.startswith("-----BEGIN PRIVATE KEY-----")]
    assert len(keys) == 3  # two ACM certificates, one IAM server certificate
    aws_secret_keys = [c for c in canaries
                       if re.fullmatch(r"[A-Za-z0-9+/]{40}", c) and "DEMOCANARY" not in c]
    n_keys = sum(len(u["access_keys"]) for a in estate.expected["accounts"].values()
                 for u in a["users"].values())
    assert len(aws_secret_keys) == n_keys == 7
    fakes = [c for c in canaries if c not in keys and c not in aws_secret_keys]
    assert all("DEMOCANARY" in c for c in fakes)


def test_service_specific_credentials(world):
    now = world["now"]
    ssc = world["estate"].service_specific_credentials
    assert set(ssc) == {PLATFORM, ML_PROD}
    assert ssc[ML_PROD] == []
    users = world["estate"].expected["accounts"][PLATFORM]["users"]
    required = {"UserName", "Status", "CreateDate", "ServiceSpecificCredentialId",
                "ServiceName", "ServiceUserName"}
    for item in ssc[PLATFORM]:
        assert required <= set(item)
        assert item["UserName"] in users
        assert re.fullmatch(r"ACCA[A-Z0-9]{17}", item["ServiceSpecificCredentialId"])
        assert item["ServiceUserName"] == f"{item['UserName']}-at-{PLATFORM}"
    (bedrock,) = [i for i in ssc[PLATFORM] if i["ServiceName"] == "bedrock.amazonaws.com"]
    assert bedrock["UserName"] == "bedrock-api-user"
    assert bedrock["ServiceCredentialAlias"] == f"BedrockAPIKey-bedrock-api-user-at-{PLATFORM}"
    assert bedrock["ExpirationDate"] == now + dt.timedelta(days=20)
    assert bedrock["Status"] == "Active"


# --------------------------------------------------------------------------------------
# No server needed


def test_relative_dates():
    now = dt.datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert _when("-400d", now) == now - dt.timedelta(days=400)
    assert _when("+20d", now) == now + dt.timedelta(days=20)
    assert _when("-6h", now) == now - dt.timedelta(hours=6)
    assert _when("never", now) is None
    assert _when("now", now) == now
    with pytest.raises(EstateError):
        _when("400 days ago", now)


def test_fake_secrets_are_stable_unique_and_realistic():
    a = _fake_secret("openai", "support-agent")
    assert a == _fake_secret("openai", "support-agent")
    assert a != _fake_secret("openai", "other")
    assert re.fullmatch(r"sk-proj-DEMOCANARY[0-9A-Za-z]{38}T3BlbkFJ[0-9A-Za-z]{40}", a)
    assert _fake_secret("anthropic", "x").startswith("sk-ant-api03-DEMOCANARY")
    assert _fake_secret("anthropic", "x").endswith("AA")
    with pytest.raises(EstateError):
        _fake_secret("nope", "x")


def test_estate_file_rejects_a_missing_readonly_role(tmp_path: Path):
    from agentreach_testing.demo.seed import _Seeder

    spec = load_estate(ESTATE_PATH)
    spec["accounts"][1]["iam"]["roles"] = [
        r for r in spec["accounts"][1]["iam"]["roles"] if r["name"] != "agentreach-readonly"]
    with pytest.raises(EstateError, match="ml-prod"):
        _Seeder("http://127.0.0.1:1", spec, dt.datetime.now(UTC))
    bad = tmp_path / "estate.yaml"
    bad.write_text("version: 2\n")
    with pytest.raises(EstateError):
        load_estate(bad)
