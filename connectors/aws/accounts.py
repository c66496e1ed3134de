"""Which accounts to scan and the credentials to scan each with.

The caller's own account is scanned with the caller's credentials (the standard boto3
chain: profile, env, SSO, instance role). Every other account is scanned through a
read-only role assumed there; a role that cannot be assumed is a coverage gap for that
account, and the other accounts go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentreach.connector import ScanContext, first_line
from agentreach.model import CoverageGap

from .calls import AwsCalls, make_client
from .config import AccountTarget, AwsConfig
from .replies import MalformedResponse, error_code, missing

CREDENTIAL_FIELDS = ("Credentials.AccessKeyId", "Credentials.SecretAccessKey", "Credentials.SessionToken")


@dataclass
class AccountSession:
    target: AccountTarget
    session: Any  # boto3.Session


def base_session(cfg: AwsConfig) -> Any:
    import boto3

    return boto3.Session(profile_name=cfg.profile, region_name=cfg.default_region)


def caller_account(calls: AwsCalls) -> str | None:
    ident = calls.call("sts", "GetCallerIdentity", absent=frozenset(), need=("Account",))
    return ident["Account"] if ident else None


def plan_targets(calls: AwsCalls, cfg: AwsConfig, own: str) -> list[AccountTarget]:
    """Configured accounts, plus every active account of the Organization if asked; the
    caller's own account when nothing else is configured."""
    targets = {t.account_id: t for t in cfg.accounts}
    if cfg.organization:
        for acct in calls.paginate("organizations", "ListAccounts", "Accounts", need=("Id",)):
            if acct.get("Status", "ACTIVE") == "ACTIVE" and acct["Id"] not in targets:
                targets[acct["Id"]] = AccountTarget(
                    account_id=acct["Id"], alias=acct.get("Name"),
                    role_arn=f"arn:aws:iam::{acct['Id']}:role/{cfg.role_name}")
    if not targets:
        targets[own] = AccountTarget(account_id=own)
    return [targets[k] for k in sorted(targets)]


def open_account(session: Any, target: AccountTarget, own: str, cfg: AwsConfig,
                 ctx: ScanContext) -> AccountSession | None:
    """A session inside ``target``; None (with a gap) when the role cannot be assumed."""
    import boto3

    if target.account_id == own or not target.role_arn:
        return AccountSession(target, session)
    sts = make_client(session, "sts", cfg.default_region, cfg)
    params: dict[str, Any] = {"RoleArn": target.role_arn, "RoleSessionName": cfg.role_session_name}
    if cfg.external_id:
        params["ExternalId"] = cfg.external_id
    try:
        resp = sts.assume_role(**params)
        lacks = missing(resp, CREDENTIAL_FIELDS)
        if lacks:
            raise MalformedResponse(f"the answer lacks {', '.join(lacks)}")
    except Exception as exc:
        ctx.gaps.record(CoverageGap(
            connector="aws", account=target.account_id, service="sts", operation="AssumeRole",
            error_code=error_code(exc), message=f"cannot assume {target.role_arn}: {first_line(exc)}"[:500]))
        return None
    creds = resp["Credentials"]
    return AccountSession(target, boto3.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], region_name=cfg.default_region))
