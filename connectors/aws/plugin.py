"""What the AWS connector adds to agentreach besides collection: its provider name, the
reach deriver that evaluates IAM policies into edges, its ``scan`` options, and the node
type that says which accounts a scan covered. Light on purpose: nothing here imports boto3."""

from agentreach import secretvalues
from agentreach.plugins import CliOption, Plugin, ShardDimension

PLUGIN = Plugin(
    name="aws",
    provider="aws",
    config="agentreach_connectors.aws.config:AwsConfig.from_mapping",
    description="AWS accounts: IAM, access keys, Bedrock and AgentCore, workloads, data stores",
    derivers=("agentreach.policy.aws.edges:derive",),
    scope_types=("aws_account",),
    shards={"accounts": ShardDimension("accounts", "AWS account ids", also={"organization": False}, accounts=True)},
    cli_options=(
        CliOption("--regions", "regions", "AWS: comma-separated regions (overrides connectors.aws.regions).", "csv"),
        CliOption("--accounts", "accounts", "AWS: comma-separated account ids to scan through the read-only role.",
                  "csv"),
        CliOption("--organization", "organization", "AWS: every active account of the Organization.", "flag"),
        CliOption("--profile", "profile", "AWS: named profile."),
        CliOption("--activity", "activity", "AWS: also read what principals and keys did (CloudTrail files, "
                  "LookupEvents, IAM last-accessed).", "flag"),
        CliOption("--activity-since", "activity_since", "AWS: with --activity, how far back (90d default, 12h, 2w, "
                  "an ISO date)."),
        CliOption("--endpoint-url", "endpoint_url", "AWS: one endpoint for every service (testing, proxies)."),
        CliOption(secretvalues.OPTION_FLAG, secretvalues.OPTION_KEY, secretvalues.OPTION_HELP, "flag"),
    ),
)
