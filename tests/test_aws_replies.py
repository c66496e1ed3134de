"""Answers that arrive broken: cut short on the wire, whole but lacking a field a transform
needs, throttled past every retry, refused. Each is a coverage gap naming its account,
region, service and operation; none is a traceback; and nothing goes missing that a gap does
not name: the inventory of a faulty scan equals the fault-free one minus what its gaps
cover. Faults are injected by the front door at fixed seeds; the boto3 clients are real."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pytest
from agentreach_testing.faults import Fault, FaultPlan

from agentreach.connector import ScanContext
from agentreach.model import CoverageGap
from agentreach.scan import prepare, run_scan
from agentreach.store import Store

from .conftest import aws_config

# Requests one after another, so a seeded plan draws in the same order every run.
SEQUENTIAL = {"regions": ["us-east-1"], "max_workers": 1, "region_workers": 1, "key_workers": 1,
              "max_attempts": 2}

# Which botocore service's gap explains a record of this type going missing or changing.
SERVICE_OF = {
    "aws_acm_certificate": {"acm"}, "aws_secretsmanager_secret": {"secretsmanager"},
    "aws_lambda_function": {"lambda"}, "aws_bedrock_agent": {"bedrock-agent"},
    "aws_agentcore_runtime": {"bedrock-agentcore-control"}, "aws_agentcore_gateway": {"bedrock-agentcore-control"},
    "aws_ecs_task_definition": {"ecs"}, "aws_ec2_instance": {"ec2", "iam"},  # its role comes from IAM's profiles
    "aws_eks_pod_identity_association": {"eks"}, "aws_apprunner_service": {"apprunner"},
    "aws_s3_bucket": {"s3"}, "aws_dynamodb_table": {"dynamodb"}, "aws_kms_key": {"kms"},
    "aws_account": {"iam"},  # its name is the account alias
}
GAP_CODES_OF_A_BROKEN_ANSWER = {"ResponseMalformed", "Throttling", "ThrottlingException", "AccessDenied",
                                "AccessDeniedException", "TooManyRequestsException", "RequestLimitExceeded",
                                "SlowDown"}


def scan(door: Any, estate: Any, tmp_path: Path, **extra: Any) -> tuple[list[CoverageGap], dict[str, Any]]:
    """Gaps, and every record the AWS connector stored (nodes and edges by id, with their body
    and the node they belong to)."""
    config = aws_config(door.url, estate, **{**SEQUENTIAL, **extra})
    store = Store(tmp_path / "inv.db")
    result = run_scan(store, config, prepare(config), ScanContext())
    assert result.snapshot.status == "complete"
    nodes = {n.node.id: n.node for n in store.nodes(result.snapshot.id) if n.node.source == "aws"}
    records: dict[str, Any] = {i: (n.to_dict(), n) for i, n in nodes.items()}
    for e in store.edges(result.snapshot.id):
        if e.get("source") == "aws" and e["src"] in nodes:
            records[e["id"]] = (e, nodes[e["src"]])
    return result.gaps, records


def explained(node: Any, gaps: Iterable[CoverageGap]) -> bool:
    """Whether a gap covers ``node``: its account (any, for AWS's own managed policies) and
    service, and its region where both have one."""
    services = SERVICE_OF.get(node.type, {"iam"})
    for g in gaps:
        if g.service == "sts" and g.operation == "AssumeRole" and node.account and g.account == node.account:
            return True  # the account could not be entered: all of it is lost, and this gap says so
        if g.service not in services or (node.account and g.account != node.account):
            continue
        if node.region and g.region and g.region != node.region:
            continue
        return True
    return False


def unexplained(clean: dict[str, Any], faulty: dict[str, Any], gaps: list[CoverageGap],
                own_role: str) -> list[str]:
    """Records lost, changed or added by the faults that no gap names."""
    out = []
    for rid in sorted(set(clean) | set(faulty)):
        before, after = clean.get(rid), faulty.get(rid)
        if before and after and before[0] == after[0]:
            continue
        node = (after or before)[1]
        if node.name == own_role and before and after:
            continue  # the scanner's own role: its last use is the scan itself
        if not explained(node, gaps):
            out.append(f"{'lost' if not after else 'added' if not before else 'changed'} {rid}")
    return out


@pytest.fixture(scope="module")
def clean_scan(frontdoor_session: Any, seeded_estate: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    gaps, records = scan(frontdoor_session, seeded_estate, tmp_path_factory.mktemp("clean"))
    assert gaps == []
    return records


SCENARIOS = {
    # a fraction of every service's replies cut short, the length header promising the whole
    "truncated, seed 1": [Fault("truncate", probability=0.12)],
    # well-framed replies whose body is cut: nothing but the body says so
    "cut bodies, seed 3": [Fault("truncate", probability=0.12, whole_length=False)],
    # throttled past every retry, and refused, for one service each, plus some cuts
    "throttled and denied, seed 5": [Fault("throttle", api="kms", scope="210987654321"),
                                     Fault("deny", api="lambda", code="AccessDeniedException"),
                                     Fault("throttle", api="iam", operation="ListAccessKeys", times=2),
                                     Fault("truncate", probability=0.05)],
}


@pytest.fixture
def own_plan(frontdoor: Any) -> Iterator[Callable[[int, list[Fault]], list[Fault]]]:
    """A fresh fault plan at a seed for one test, so its draws replay whatever ran before it
    (a plan's generators follow the order faults were added to it); the shared one after."""
    shared = frontdoor.faults

    def install(seed: int, faults: list[Fault]) -> list[Fault]:
        frontdoor.faults = FaultPlan(seed=seed)
        return [frontdoor.add(f) for f in faults]

    yield install
    frontdoor.faults = shared


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_faulty_scan_loses_only_what_its_gaps_name(name: str, frontdoor: Any, seeded_estate: Any, clean_scan: Any,
                                                      own_plan: Any, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    faults = own_plan(int(name.rsplit(" ", 1)[1]), SCENARIOS[name])
    with caplog.at_level(logging.WARNING, logger="agentreach"):
        gaps, faulty = scan(frontdoor, seeded_estate, tmp_path)
    assert all(f.hits for f in faults), faults  # every fault bit
    assert gaps and not [g for g in gaps if g.error_code not in GAP_CODES_OF_A_BROKEN_ANSWER], gaps
    assert all(g.account and g.service and g.operation for g in gaps)
    assert not [r for r in caplog.records if r.exc_info], "a broken answer is a gap, never a traceback"
    assert set(faulty) != set(clean_scan), "the faults should have cost something"
    assert unexplained(clean_scan, faulty, gaps, seeded_estate.readonly_role) == []


def test_a_reply_cut_mid_list_is_a_gap_not_an_empty_list(frontdoor: Any, seeded_estate: Any,
                                                         tmp_path: Path) -> None:
    """botocore reads a cut JSON body as an answer with no fields: a page of no runtimes."""
    cut = frontdoor.add(Fault("truncate", api="bedrock-agentcore-control", operation="ListAgentRuntimes",
                              fraction=0.5, whole_length=False))
    gaps, faulty = scan(frontdoor, seeded_estate, tmp_path, services=["agentcore"])
    assert cut.hits == len(seeded_estate.accounts)
    assert {(g.service, g.operation, g.error_code, g.region) for g in gaps} == {
        ("bedrock-agentcore-control", "ListAgentRuntimes", "ResponseMalformed", "us-east-1")}
    assert {g.account for g in gaps} == set(seeded_estate.accounts)
    assert "not whole JSON" in gaps[0].message
    types = {n.type for _, n in faulty.values()}
    assert "aws_agentcore_gateway" in types and "aws_agentcore_runtime" not in types


def test_an_answer_lacking_a_field_skips_that_item_with_a_gap(frontdoor: Any, seeded_estate: Any, clean_scan: Any,
                                                              tmp_path: Path) -> None:
    """Whole, parseable answers that lack what a transform indexes (KeyError: 'taskDefinition',
    KeyError: 'agentRuntimeId' before): the item is skipped, named in a gap, its siblings kept."""
    def no_id_on_the_first(body: dict[str, Any]) -> dict[str, Any]:
        body["agentRuntimes"][0].pop("agentRuntimeId")
        return body

    main = seeded_estate.expected["main_account"]
    runtimes = frontdoor.edit("bedrock-agentcore-control", "ListAgentRuntimes", no_id_on_the_first, account=main)
    tasks = frontdoor.edit("ecs", "DescribeTaskDefinition", lambda body: {"tags": body.get("tags", [])})

    def no_arn(root: Any) -> None:  # IAM is XML: the first user of GetAccountAuthorizationDetails loses its Arn
        member = next(m for m in root.iter() if m.tag.endswith("UserDetailList"))[0]
        member.remove(next(c for c in member if c.tag.endswith("Arn")))

    users = frontdoor.edit("iam", "GetAccountAuthorizationDetails", no_arn, account=main)
    gaps, faulty = scan(frontdoor, seeded_estate, tmp_path)
    assert runtimes.hits == 1 and tasks.hits >= 1 and users.hits >= 1
    by_op = {(g.account, g.service, g.operation): g for g in gaps}
    assert all(g.error_code == "ResponseMalformed" for g in gaps)
    assert "lacks agentRuntimeId" in by_op[(main, "bedrock-agentcore-control", "ListAgentRuntimes")].message
    assert "lacks taskDefinition.taskDefinitionArn" in by_op[(main, "ecs", "DescribeTaskDefinition")].message
    assert "UserName" in by_op[(main, "iam", "GetAccountAuthorizationDetails")].message
    lost = [clean_scan[i][1] for i in set(clean_scan) - set(faulty) if clean_scan[i][1].id == i]
    assert {n.type for n in lost} >= {"aws_agentcore_runtime", "aws_ecs_task_definition", "aws_iam_user"}
    assert sum(n.type == "aws_iam_user" for n in lost) == 1
    assert unexplained(clean_scan, faulty, gaps, seeded_estate.readonly_role) == []


def test_the_first_call_cut_short_is_a_gap_and_the_scan_saw_nothing(frontdoor: Any, seeded_estate: Any,
                                                                     tmp_path: Path) -> None:
    frontdoor.add(Fault("truncate", api="sts", operation="GetCallerIdentity", fraction=0.3))
    config = aws_config(frontdoor.url, seeded_estate, **SEQUENTIAL, services=["iam"])
    result = run_scan(Store(tmp_path / "first.db"), config, prepare(config), ScanContext())
    assert [(g.service, g.operation, g.error_code) for g in result.gaps] == [
        ("sts", "GetCallerIdentity", "ResponseMalformed")]
    assert result.snapshot.status == "failed"
