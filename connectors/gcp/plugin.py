"""What the GCP connector adds besides collection: its provider name, the IAM reach deriver,
its ``scan`` options and the node type of what a scan covered."""

from agentreach import secretvalues
from agentreach.plugins import CliOption, Plugin, ShardDimension

PLUGIN = Plugin(
    name="gcp",
    provider="gcp",
    config="agentreach_connectors.gcp.config:GcpConfig.from_mapping",
    description="Google Cloud organizations, folders and projects",
    derivers=("agentreach.policy.gcp.edges:derive",),
    scope_types=("gcp_project",),
    shards={"projects": ShardDimension("projects", "GCP project ids", accounts=True)},
    cli_options=(
        CliOption("--projects", "projects", "GCP: comma-separated project ids (default: every project search returns).",
                  "csv"),
        CliOption("--gcp-organization", "organization_id", "GCP: organization id whose folders and policies are read."),
        CliOption(secretvalues.OPTION_FLAG, secretvalues.OPTION_KEY, secretvalues.OPTION_HELP, "flag"),
        CliOption("--gcp-activity", "activity", "GCP: also read service accounts' Cloud Audit Logs (entries:list) "
                  "since connectors.gcp.activity_since (90d).", "flag"),
    ),
)
