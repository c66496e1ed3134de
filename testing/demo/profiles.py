"""The demo's reviewed-agents file: approved access profiles for four of the AWS agents,
dated relative to the day the demo runs (as the estate is), written in the real format by
the real writer (``agentreach.review.save_reviewed``) and read by the ordinary scan.

The story each tells:

- research-agent-runtime: approved for Bedrock models, the public assets bucket and its
  logs; its inline policy also reads customer PII: static drift, with the right-sized policy.
- support-agent-svc: granted exactly what it is approved for (Bedrock, and the public assets
  bucket everyone may read), but its profile was due for review two weeks ago.
- langchain-bot: approved to call one model and read the public assets; granted s3:* and
  the crown jewels (drift), its keys older than the 180 days its profile plans. Its last
  recorded use was S3: when activity is collected, that use is beyond its profile.
- ops-autopilot-agent: approved to read metrics and logs and describe instances; holds
  AdministratorAccess (drift). When activity is collected, the admin grants it never uses
  are what least-privilege findings remove.

Every other agent has no profile: AR-AGENT-NO-PROFILE lists them, at low severity.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from agentreach.review import Profile, Reviewed, save_reviewed, with_profile


def demo_profiles(account: str, today: dt.date) -> dict[str, tuple[str, Profile]]:
    """agentreach id -> (name, its approved profile)."""
    iam = f"arn:aws:iam::{account}"

    def days(n: int) -> dt.date:
        return today + dt.timedelta(days=n)

    return {
        f"aws:iam_role:{iam}:role/research-agent-runtime": ("research-agent-runtime", Profile(
            owner="research@example.com", purpose="web research with Bedrock models, citing public assets",
            systems=["aws:account_service:*:bedrock", "arn:aws:s3:::acme-public-assets", "arn:aws:logs:*"],
            actions=["bedrock:InvokeModel*", "bedrock:Retrieve", "s3:GetObject", "logs:CreateLogStream",
                     "logs:PutLogEvents"],
            credential_lifetime="1h", review_by=days(120))),
        f"aws:iam_user:{iam}:user/support-agent-svc": ("support-agent-svc", Profile(
            owner="ml-platform@example.com", purpose="the support agent's worker: calls Bedrock models and agents",
            systems=["aws:account_service:*:bedrock", "arn:aws:s3:::acme-public-assets"],
            actions=["bedrock:Invoke*", "bedrock:Retrieve", "s3:GetObject"],
            credential_lifetime="90d", review_by=days(-14))),
        f"aws:iam_user:{iam}:user/langchain-bot": ("langchain-bot", Profile(
            owner="ml-platform@example.com", purpose="LangChain experiments: one model, the public assets",
            systems=["aws:account_service:*:bedrock", "arn:aws:s3:::acme-public-assets/*"],
            actions=["bedrock:InvokeModel", "s3:GetObject"],
            credential_lifetime="180d", review_by=days(60))),
        f"aws:iam_role:{iam}:role/ops-autopilot-agent": ("ops-autopilot-agent", Profile(
            owner="sre@example.com", purpose="reads metrics and logs, describes instances, opens tickets",
            systems=["*"],
            actions=["cloudwatch:Get*", "cloudwatch:List*", "logs:FilterLogEvents", "logs:GetLogEvents",
                     "ec2:Describe*"],
            review_by=days(30))),
    }


def write_demo_reviewed(directory: Path, account: str, today: dt.date) -> Path:
    """The reviewed file in ``directory``; its path."""
    reviewed = Reviewed()
    for nid, (name, profile) in demo_profiles(account, today).items():
        reviewed = with_profile(reviewed, nid, profile, name=name)
    path = directory / "reviewed.yaml"
    save_reviewed(path, reviewed)
    return path
