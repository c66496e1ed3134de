"""What the Azure connector adds besides collection: its provider name, the RBAC / Graph
reach deriver, its ``scan`` options and the node types of what a scan covered."""

from agentreach import secretvalues
from agentreach.plugins import CliOption, Plugin, ShardDimension

PLUGIN = Plugin(
    name="azure",
    provider="azure",
    config="agentreach_connectors.azure.config:AzureConfig.from_mapping",
    description="Entra ID tenants and Azure subscriptions",
    derivers=("agentreach.policy.azure.edges:derive",),
    scope_types=("azure_subscription", "azure_tenant"),
    # Every subscription shard also reads the tenant's Entra directory (the same records each
    # time, stored once): shard Azure when its subscriptions, not its directory, are the bulk.
    shards={"subscriptions": ShardDimension("subscriptions", "Azure subscription ids", accounts=True)},
    cli_options=(
        CliOption("--tenant", "tenant_id", "Azure: the Entra tenant id (overrides connectors.azure.tenant_id)."),
        CliOption("--subscriptions", "subscriptions",
                  "Azure: comma-separated subscription ids (default: every one the caller sees).", "csv"),
        CliOption(secretvalues.OPTION_FLAG, secretvalues.OPTION_KEY, secretvalues.OPTION_HELP, "flag"),
        CliOption("--entra-activity", "activity", "Azure: also read service-principal and managed-identity "
                  "sign-ins (auditLogs/signIns) since connectors.azure.activity_since (90d).", "flag"),
    ),
)
