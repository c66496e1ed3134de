"""AWS Organizations: service control policies and where they are attached, read from the
management account when the scan covers the Organization. Each SCP is a policy node; each
attachment that reaches an account, directly or through its OUs and the root, is a
``has_policy`` edge from that account with ``attachment: scp``, the target it is attached to
(``via``), that target's ``level`` on the way from the root (0 = root, the account last) and the
whole ``path`` root first: SCPs are evaluated per level (every level must allow), so where each
one is attached is what the evaluator needs. The connector records attachments only.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from agentreach.model import Edge, EdgeKind, Policy, Record, node_id

from .calls import AwsCalls
from .ids import SOURCE
from .policies import parse_policy


def get(calls: AwsCalls, accounts: Iterable[str]) -> dict[str, Any]:
    org = (calls.call("organizations", "DescribeOrganization") or {}).get("Organization") or {}
    policies = []
    for summary in calls.paginate("organizations", "ListPolicies", "Policies", Filter="SERVICE_CONTROL_POLICY",
                                  need=("Id", "Arn")):
        detail = calls.call("organizations", "DescribePolicy", PolicyId=summary["Id"], need=("Policy.Content",))
        targets = [t["TargetId"] for t in calls.paginate("organizations", "ListTargetsForPolicy", "Targets",
                                                          PolicyId=summary["Id"], need=("TargetId",))]
        content = ((detail or {}).get("Policy") or {}).get("Content")
        policies.append({**summary, "Content": content, "Targets": targets})
    ancestry = {acct: _ancestry(calls, acct) for acct in accounts}
    return {"management_account": org.get("MasterAccountId"), "policies": policies, "ancestry": ancestry}


def _ancestry(calls: AwsCalls, account: str) -> list[str]:
    """The account, its OUs, and the root: every target whose SCPs apply to it."""
    chain, child = [account], account
    for _ in range(10):  # Organizations nests OUs five deep at most
        parents = calls.keep((calls.call("organizations", "ListParents", ChildId=child) or {}).get("Parents") or [],
                             ("Id",), "organizations", "ListParents")
        if not parents:
            break
        child = parents[0]["Id"]
        chain.append(child)
        if parents[0].get("Type") == "ROOT":
            break
    return chain


def transform(raw: dict[str, Any]) -> Iterator[Record]:
    for pol in raw["policies"]:
        pid = node_id("aws", "scp", pol["Arn"])
        yield Policy(id=pid, provider="aws", source=SOURCE, type="aws_scp", name=pol.get("Name") or pol["Id"],
                     native_id=pol["Arn"], document=parse_policy(pol.get("Content"), f"SCP {pol['Arn']}") or {},
                     attrs={"aws_managed": bool(pol.get("AwsManaged")), "targets": pol["Targets"],
                            "description": pol.get("Description")})
        for account, chain in raw["ancestry"].items():
            if account == raw.get("management_account"):
                continue  # SCPs never restrict the management account
            path = list(reversed(chain))  # root first, the account last
            for level, via in enumerate(path):
                if via in pol["Targets"]:
                    yield Edge(src=node_id("aws", "account", account), dst=pid, kind=EdgeKind.HAS_POLICY,
                               source=SOURCE, key=f"scp:{via}",
                               attrs={"attachment": "scp", "via": via, "level": level, "path": path,
                                      "policy_arn": pol["Arn"]})
