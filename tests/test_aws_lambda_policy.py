"""A Lambda resource policy whose Principal is a bare string (what moto's GetPolicy returns
for account and ARN principals, as some SDK versions do) keeps its tool link: the scan
stores the object form, the policy evaluates without a MalformedPolicy gap, and the role the
function runs as is an agent's tool. Against a real moto server over HTTP."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3

from agentreach.connector import ScanContext
from agentreach.scan import prepare, run_scan
from agentreach.store import Store

from .conftest import aws_config, reset_moto

ACCOUNT = "123456789012"  # moto's default account
AGENT = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:agent/ABCDEFGHIJ"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def _client(moto_url: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=moto_url, region_name="us-east-1")


def test_bare_string_principals_keep_the_tool_link(moto_url: str, tmp_path: Path) -> None:
    reset_moto(moto_url)
    iam, lam = _client(moto_url, "iam"), _client(moto_url, "lambda")
    role = iam.create_role(RoleName="lookup-tool-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]
    lam.create_function(FunctionName="lookup", Runtime="python3.12", Role=role["Arn"], Handler="index.handler",
                        Code={"ZipFile": _zip()})
    lam.add_permission(FunctionName="lookup", StatementId="agent-account", Action="lambda:InvokeFunction",
                       Principal=ACCOUNT)
    lam.add_permission(FunctionName="lookup", StatementId="bedrock-agent", Action="lambda:InvokeFunction",
                       Principal="bedrock.amazonaws.com", SourceArn=AGENT)
    raw = json.loads(lam.get_policy(FunctionName="lookup")["Policy"])
    assert any(isinstance(s["Principal"], str) for s in raw["Statement"])  # the shape the issue names

    config = aws_config(moto_url, regions=["us-east-1"], services=["iam", "lambda"])
    store = Store(tmp_path / "inv.db")
    result = run_scan(store, config, prepare(config), ScanContext())
    assert not [g for g in result.gaps if g.error_code == "MalformedPolicy"], result.gaps
    nodes = {n.node.name: n.node for n in store.nodes(result.snapshot.id)}
    policy = nodes["lookup"].attrs["resource_policy"]
    assert {json.dumps(s["Principal"], sort_keys=True) for s in policy["Statement"]} == {
        json.dumps({"AWS": ACCOUNT}), json.dumps({"Service": "bedrock.amazonaws.com"})}
    verdict = store.annotations(result.snapshot.id, "agent")[nodes["lookup-tool-role"].id]
    assert verdict["verdict"] == "agent" and verdict["role"] == "agent_tool"
    assert any(e["signal"] == "aws.tool.invoked-by-agent" and AGENT in e["matched"] for e in verdict["evidence"])
