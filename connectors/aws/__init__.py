"""The AWS connector: IAM principals and their credentials, the workloads that run as them
(Lambda, ECS, EC2, Bedrock agents, AgentCore, EKS Pod Identity, App Runner) and the systems they may reach (S3,
DynamoDB, Secrets Manager, KMS), across accounts and regions. Read-only throughout.

Accounts run in parallel on a bounded pool, each account's regions on a second one.
Records flow back to the caller through a queue, so memory stays flat and the store can
write while AWS is still being read.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, Iterator, Mapping

from agentreach import secretvalues
from agentreach.connector import Connector, ScanCancelled, ScanContext, first_line
from agentreach.model import CoverageGap, Record, System, node_id

from . import (
    acm,
    activity as activity_logs,
    apprunner,
    bedrock,
    dynamodb,
    ec2,
    ecs,
    eks,
    functions,
    iam,
    kms,
    organizations,
    s3,
    secrets,
)
from .accounts import base_session, caller_account, open_account, plan_targets
from .calls import AwsCalls
from .config import AccountTarget, AwsConfig

__all__ = ["AwsConnector"]

_DONE = object()

# service name in config -> (collect(calls, region, account, now) -> records)
RegionalCollector = Callable[[AwsCalls, str, str, Any], Iterable[Record]]
REGIONAL: dict[str, RegionalCollector] = {
    "acm": lambda c, r, a, now: acm.transform(acm.get(c, r), a, r, now),
    "lambda": lambda c, r, a, now: functions.transform(functions.get(c, r), a, r),
    "bedrock": lambda c, r, a, now: bedrock.transform_agents(bedrock.get_agents(c, r), a, r),
    "agentcore": lambda c, r, a, now: bedrock.transform_agentcore(bedrock.get_agentcore(c, r), a, r),
    "ecs": lambda c, r, a, now: ecs.transform(ecs.get(c, r), a, r),
    "eks": lambda c, r, a, now: eks.transform(eks.get(c, r), a, r),
    "apprunner": lambda c, r, a, now: apprunner.transform(apprunner.get(c, r), a, r),
    "dynamodb": lambda c, r, a, now: dynamodb.transform(dynamodb.get(c, r), a, r),
    "kms": lambda c, r, a, now: kms.transform(kms.get(c, r), a, r),
}


class AwsConnector(Connector):
    name = "aws"
    version = "0.1.0"
    description = "AWS IAM, credentials, AI agents and reachable systems (boto3, read-only)"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.cfg = AwsConfig.from_mapping(config)
        self._lock = threading.Lock()
        self._activity = activity_logs.SharedState()
        self.values = secretvalues.ValueStats()  # what match_secret_values read and cost

    def summary(self) -> dict[str, Any]:
        return {"secret_values": self.values.summary()} if self.cfg.match_secret_values else {}

    def summary_line(self) -> str:
        return self.values.line() if self.cfg.match_secret_values else ""

    def scan(self, ctx: ScanContext) -> Iterator[Record]:
        try:
            session = base_session(self.cfg)
        except Exception as exc:
            ctx.gaps.record(CoverageGap(connector="aws", operation="Session", error_code=type(exc).__name__,
                                        message=str(exc)))
            return
        base = AwsCalls(session, "unknown", self.cfg, ctx)
        try:
            own = caller_account(base)
            if own is None:
                return  # the gap says why (no credentials, denied, endpoint down)
            base.account = own
            targets = plan_targets(base, self.cfg, own)
            scps: list[Record] = []
            if self.cfg.organization:
                scps = list(organizations.transform(organizations.get(base, [t.account_id for t in targets])))
        finally:
            self.api_calls.update(base.counts)
        yield from scps
        out: queue.Queue[Any] = queue.Queue(maxsize=64)
        stop = threading.Event()

        def put(records: Iterable[Record]) -> None:
            batch = list(records)
            while not stop.is_set():
                try:
                    out.put(batch, timeout=0.2)
                    return
                except queue.Full:
                    continue
            raise ScanCancelled("consumer stopped")

        def run(target: AccountTarget) -> None:
            try:
                self._scan_account(session, target, own, ctx, put)
            except ScanCancelled:
                pass
            except Exception as exc:
                _log_failure(ctx, f"account {target.account_id}", exc)
                ctx.gaps.record(CoverageGap(connector="aws", account=target.account_id, operation="ScanAccount",
                                            error_code=type(exc).__name__, message=str(exc)[:500]))
            finally:
                out.put(_DONE)

        pool = ThreadPoolExecutor(max_workers=self.cfg.max_workers, thread_name_prefix="aws-account")
        try:
            for target in targets:
                pool.submit(run, target)
            remaining = len(targets)
            while remaining:
                item = out.get()
                if item is _DONE:
                    remaining -= 1
                else:
                    yield from item
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
        if self.cfg.match_secret_values:
            ctx.log.info("aws: %s", self.values.line())

    def _scan_account(self, session: Any, target: AccountTarget, own: str, ctx: ScanContext,
                      put: Callable[[Iterable[Record]], None]) -> None:
        acct = open_account(session, target, own, self.cfg, ctx)
        if acct is None:
            return
        account = target.account_id
        calls = AwsCalls(acct.session, account, self.cfg, ctx)
        services = set(self.cfg.services)
        now = ctx.clock()

        def guarded(svc: str, region: str | None, collect: Callable[[], Iterable[Record]]) -> None:
            """Run one collector; a surprise in it is a gap for that service, not the account."""
            try:
                put(collect())
            except ScanCancelled:
                raise
            except Exception as exc:
                _log_failure(ctx, f"{account} {region or 'global'} {svc}", exc)
                ctx.gaps.record(CoverageGap(
                    connector="aws", account=account, region=region, service=svc,
                    operation=f"collect:{svc}", error_code=type(exc).__name__, message=str(exc)[:500]))

        try:
            aliases: list[str] = []
            profile_roles: dict[str, list[str]] = {}
            principals: list[str] = []  # user and role ARNs, for last-accessed data

            def collect_iam() -> Iterable[Record]:
                raw = iam.get_iam(calls)
                aliases.extend(raw.aliases)
                principals.extend(u["Arn"] for u in raw.users if u.get("Arn"))
                principals.extend(r["Arn"] for r in raw.roles if r.get("Arn"))
                for role in raw.roles:
                    for profile in role.get("InstanceProfileList", []):
                        profile_roles.setdefault(profile["Arn"], []).append(role["Arn"])
                return iam.transform(raw, now)

            if "iam" in services:
                guarded("iam", None, collect_iam)
            put([System(
                id=node_id("aws", "account", account), provider="aws", source="aws", type="aws_account",
                name=aliases[0] if aliases else (target.alias or account), native_id=account, account=account,
                attrs={"aliases": aliases, "scanned_via": target.role_arn if account != own else "caller"},
            )])
            if "s3" in services:
                guarded("s3", None, lambda: s3.transform(s3.get(calls), account))
            regions = list(self.cfg.regions or ec2.region_names(calls) or [self.cfg.default_region])
            task = ctx.progress.task(f"aws {account}", total=len(regions))
            collectors = {svc: fn for svc, fn in REGIONAL.items() if svc in services}
            if "secretsmanager" in services:
                collectors["secretsmanager"] = lambda c, r, a, _now: secrets.transform(
                    secrets.get(c, r, self.values), a, r)
            if "ec2" in services:
                collectors["ec2"] = lambda c, r, a, _now: ec2.transform(ec2.get(c, r), a, r, profile_roles)

            def scan_region(region: str) -> None:
                for svc, collect in collectors.items():
                    guarded(svc, region, lambda collect=collect: collect(calls, region, account, now))
                task.advance()

            with ThreadPoolExecutor(max_workers=self.cfg.region_workers,
                                    thread_name_prefix=f"aws-{account}") as pool:
                for future in [pool.submit(scan_region, r) for r in regions]:
                    future.result()
            task.done()
            if self.cfg.activity:
                self._collect_activity(calls, account, regions, principals, now, ctx, put)
        finally:
            with self._lock:
                self.api_calls.update(calls.counts)

    def _collect_activity(self, calls: AwsCalls, account: str, regions: list[str], principals: list[str],
                          now: Any, ctx: ScanContext, put: Callable[[Iterable[Record]], None]) -> None:
        """The account's activity aggregates, handed on in batches as they are drained (never
        the whole window's at once); a surprise is a gap for activity, not the account."""
        from agentreach.activity import iter_chunks, window_start

        opts = activity_logs.ActivityOptions(
            since=window_start(now, self.cfg.activity_since), now=now, sources=self.cfg.activity_sources,
            max_keys=self.cfg.activity_max_keys, job_timeout=self.cfg.last_accessed_timeout,
            regions=tuple(regions))
        try:
            for chunk in iter_chunks(activity_logs.collect(calls, account, opts, self._activity, principals), 1000):
                put(chunk)  # type: ignore[arg-type]
        except ScanCancelled:
            raise
        except Exception as exc:
            _log_failure(ctx, f"{account} activity", exc)
            ctx.gaps.record(CoverageGap(connector="aws", account=account, service="cloudtrail",
                                        operation="collect:activity", error_code=type(exc).__name__,
                                        message=str(exc)[:500]))


def _log_failure(ctx: ScanContext, what: str, exc: BaseException) -> None:
    """One line at the default verbosity (the gap says the rest); the traceback only at -vv,
    for whoever debugs the connector."""
    ctx.log.warning("aws %s: %s: %s (recorded as a coverage gap)", what, type(exc).__name__, first_line(exc))
    ctx.log.debug("aws %s failed", what, exc_info=exc)
