"""The AWS estate (aws/estate.yaml) as the records the AWS connector emits (connectors/aws/iam.py,
s3.py, dynamodb.py, secrets.py, kms.py, ec2.py, functions.py): identities with
``attrs.inline_policies`` and ``trust_policy``, ``has_policy`` edges to policy nodes (managed and
boundary), ``member_of`` edges to groups, systems with ``resource_policy``, workloads that
``runs_as`` their role, access keys and console passwords that ``authenticate`` as users."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

from agentreach.model import Credential, Edge, EdgeKind, Identity, Policy, System, Workload, node_id

from .estate import HERE, Estate, escalations, expectations, read_yaml

SOURCE = "aws"
SYSTEM_IDS = {"aws_s3_bucket": "s3_bucket", "aws_dynamodb_table": "dynamodb_table",
              "aws_secretsmanager_secret": "secret", "aws_kms_key": "kms_key"}
WORKLOAD_IDS = {"aws_ec2_instance": "ec2_instance", "aws_lambda_function": "lambda_function",
                "aws_sagemaker_notebook_instance": "sagemaker_notebook_instance"}


def managed_policies() -> dict[str, Any]:
    return json.loads((HERE / "aws" / "managed_policies.json").read_text())


def trust_policy(trust: Any, account: str) -> dict[str, Any]:
    """``account`` (the account's root may assume, given its own sts:AssumeRole), a
    ``{Service: …}`` principal, or a whole document."""
    if isinstance(trust, Mapping) and "Statement" in trust:
        return dict(trust)
    principal = {"AWS": f"arn:aws:iam::{account}:root"} if trust == "account" else dict(trust)
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}


def principal_arn(account: str, kind: str, name: str) -> str:
    return f"arn:aws:iam::{account}:{kind}/{name}"


def _key_id(seed: str) -> str:
    return "AKIA" + hashlib.sha256(seed.encode()).hexdigest()[:16].upper()


class _Builder:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.account = str(data["account"])
        self.estate = Estate(provider="aws", raw=dict(data))
        self.managed = managed_policies()
        self.policy_ids: dict[str, str] = {}  # name -> node id

    def policy(self, name: str, customer: bool = False) -> str:
        if name in self.policy_ids:
            return self.policy_ids[name]
        if customer:
            spec = self.data["customer_policies"][name]
            arn = f"arn:aws:iam::{self.account}:policy/{name}"
            attrs = {"aws_managed": False, "default_version": spec.get("default_version", "v1"),
                     "benchmark_source": spec.get("source")}
            doc, account = spec["document"], self.account
        else:
            spec = self.managed[name]
            arn, doc, account = spec["arn"], spec["document"], None
            attrs = {"aws_managed": True, "default_version": spec["version"], "benchmark_source": spec["source"]}
        pid = node_id("aws", "iam_policy", arn)
        self.estate.nodes.append(Policy(id=pid, provider="aws", source=SOURCE, type="aws_iam_policy", name=name,
                                        native_id=arn, account=account, document=doc, attrs=attrs))
        self.policy_ids[name] = pid
        return pid

    def attach(self, src: str, spec: Mapping[str, Any]) -> None:
        for name, customer in [(n, False) for n in spec.get("managed") or []] + \
                              [(n, True) for n in spec.get("customer") or []]:
            pid = self.policy(name, customer)
            arn = next(n.native_id for n in self.estate.nodes if n.id == pid)
            self.estate.edges.append(Edge(src=src, dst=pid, kind=EdgeKind.HAS_POLICY, source=SOURCE, key="managed",
                                          attrs={"attachment": "managed", "policy_arn": arn}))
        if spec.get("boundary"):
            pid = self.policy(spec["boundary"], customer=spec["boundary"] in (self.data.get("customer_policies") or {}))
            arn = next(n.native_id for n in self.estate.nodes if n.id == pid)
            self.estate.edges.append(Edge(src=src, dst=pid, kind=EdgeKind.HAS_POLICY, source=SOURCE, key="boundary",
                                          attrs={"attachment": "boundary", "policy_arn": arn}))

    @staticmethod
    def inline(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{"name": p["name"], "document": p["document"]} for p in spec.get("inline") or []]

    def systems(self) -> None:
        for label, spec in self.data["systems"].items():
            arn = spec["arn"]
            tail = arn.split(":::", 1)[1] if spec["type"] == "aws_s3_bucket" else arn.rsplit("/", 1)[-1]
            name = tail.rsplit(":", 1)[-1]
            sid = node_id("aws", SYSTEM_IDS[spec["type"]], arn)
            self.estate.nodes.append(System(
                id=sid, provider="aws", source=SOURCE, type=spec["type"], name=name, native_id=arn,
                account=self.account, region=self.data.get("region"), resource_policy=spec.get("resource_policy"),
                attrs={"benchmark_label": label, "benchmark_source": spec.get("source")}))
            self.estate.systems[label] = sid

    def groups(self) -> dict[str, str]:
        ids = {}
        for name, spec in (self.data.get("groups") or {}).items():
            arn = principal_arn(self.account, "group", name)
            gid = node_id("aws", "iam_group", arn)
            self.estate.nodes.append(Identity(id=gid, provider="aws", source=SOURCE, type="aws_iam_group", name=name,
                                              native_id=arn, account=self.account,
                                              attrs={"inline_policies": self.inline(spec or {})}))
            self.attach(gid, spec or {})
            ids[name] = gid
        return ids

    def principals(self, groups: Mapping[str, str]) -> None:
        for spec in self.data["principals"]:
            label, kind = spec["id"], spec["type"]
            name = spec.get("name", label)
            arn = principal_arn(self.account, kind, name)
            pid = node_id("aws", f"iam_{kind}", arn)
            attrs: dict[str, Any] = {"inline_policies": self.inline(spec), "benchmark_label": label}
            if spec.get("boundary"):
                boundary = spec["boundary"]
                custom = boundary in (self.data.get("customer_policies") or {})
                attrs["permissions_boundary"] = (f"arn:aws:iam::{self.account}:policy/{boundary}" if custom
                                                 else self.managed[boundary]["arn"])
            if kind == "role":
                attrs["trust_policy"] = trust_policy(spec.get("trust", "account"), self.account)
                attrs["instance_profiles"] = [spec["instance_profile"]] if spec.get("instance_profile") else []
                attrs["service_linked"] = False
            else:
                attrs["groups"] = list(spec.get("groups") or [])
                attrs["password_enabled"] = bool(spec.get("console_password"))
            self.estate.nodes.append(Identity(id=pid, provider="aws", source=SOURCE, type=f"aws_iam_{kind}",
                                              name=name, native_id=arn, account=self.account, attrs=attrs))
            self.attach(pid, spec)
            for group in spec.get("groups") or []:
                self.estate.edges.append(Edge(src=pid, dst=groups[group], kind=EdgeKind.MEMBER_OF, source=SOURCE))
            self.credentials(pid, name, arn, spec)
            self.estate.principals[label] = pid
            self.estate.why[label] = spec.get("why", "")

    def credentials(self, pid: str, name: str, arn: str, spec: Mapping[str, Any]) -> None:
        for n in range(int(spec.get("access_keys") or 0)):
            key = _key_id(f"{arn}#{n}")
            cid = node_id("aws", "access_key", key)
            self.estate.nodes.append(Credential(id=cid, provider="aws", source=SOURCE, type="aws_access_key",
                                                name=key, native_id=key, account=self.account,
                                                attrs={"user": name, "user_arn": arn, "slot": n + 1}))
            self.estate.edges.append(Edge(src=cid, dst=pid, kind=EdgeKind.AUTHENTICATES, source=SOURCE))
        if spec.get("console_password"):
            cid = node_id("aws", "console_password", arn)
            self.estate.nodes.append(Credential(id=cid, provider="aws", source=SOURCE, type="aws_console_password",
                                                name=f"{name} (console)", native_id=arn, account=self.account,
                                                attrs={"user": name}))
            self.estate.edges.append(Edge(src=cid, dst=pid, kind=EdgeKind.AUTHENTICATES, source=SOURCE))

    def workloads(self) -> None:
        for spec in self.data.get("workloads") or []:
            wid = node_id("aws", WORKLOAD_IDS[spec["type"]], spec["arn"])
            attrs = {"benchmark_label": spec["id"], "note": spec.get("note")}
            if spec.get("instance_profile"):
                attrs["instance_profile_arn"] = spec["instance_profile"]
            role = self.estate.principals[spec["role"]]
            attrs["role_arn"] = next(n.native_id for n in self.estate.nodes if n.id == role)
            self.estate.nodes.append(Workload(id=wid, provider="aws", source=SOURCE, type=spec["type"],
                                              name=spec["name"], native_id=spec["arn"], account=self.account,
                                              region=self.data.get("region"), attrs=attrs))
            self.estate.edges.append(Edge(src=wid, dst=role, kind=EdgeKind.RUNS_AS, source=SOURCE,
                                          attrs={"via": spec.get("instance_profile") or "execution role"}))


def load() -> Estate:
    data = read_yaml(HERE / "aws" / "estate.yaml")
    b = _Builder(data)
    b.systems()
    b.principals(b.groups())
    b.workloads()
    for spec in data["principals"]:
        expectations(b.estate, spec["id"], spec.get("expect"))
    escalations(b.estate, data.get("escalations"))
    return b.estate
