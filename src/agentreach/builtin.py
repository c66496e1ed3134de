"""What the core itself registers, declared the way a plugin declares its additions: the
provider-neutral signal kinds and the report formats. Provider-specific pieces (derivers,
scan options, scope types) come from each connector's own plugin module."""

from __future__ import annotations

from .plugins import OutputFormat, Plugin, SignalKind

_M = "agentreach.classify.matchers"

CORE = Plugin(
    name="core",
    provider="any",  # a signal for every provider
    description="agentreach's own signal kinds and report formats",
    signal_kinds={
        "field": SignalKind(f"{_M}:match_field", required=("field", "pattern"), regex_keys=("pattern",)),
        "tag": SignalKind(f"{_M}:match_tag", regex_keys=("key", "value")),
        "trust_principal": SignalKind(f"{_M}:match_trust", required=("principal",),
                                      regex_keys=("principal", "source_arn")),
        "policy_action": SignalKind(f"{_M}:match_policy_action", required=("actions",)),
        "managed_policy": SignalKind(f"{_M}:match_managed_policy", required=("pattern",), regex_keys=("pattern",)),
        "runs_workload": SignalKind(f"{_M}:match_runs_workload", required=("workload_type",),
                                    regex_keys=("workload_type",)),
        "workload_env": SignalKind(f"{_M}:match_workload_env", required=("pattern",), regex_keys=("pattern",)),
        "workload_image": SignalKind(f"{_M}:match_workload_image", required=("pattern",), regex_keys=("pattern",)),
        "invoked_by_agent": SignalKind(f"{_M}:match_invoked_by_agent", required=("principal",),
                                       regex_keys=("principal", "source_arn")),
        "human_console": SignalKind(f"{_M}:match_human_console"),
        "location": SignalKind(f"{_M}:match_location", required=("pattern",), regex_keys=("pattern",)),
        "words": SignalKind(f"{_M}:match_words", required=("pattern",), regex_keys=("pattern",)),
        "declared_purpose": SignalKind(f"{_M}:match_declared_purpose", required=("key", "value"),
                                       regex_keys=("key", "value")),
        "federation_subject": SignalKind(f"{_M}:match_federation_subject", regex_keys=("subject", "issuer")),
        "env_value": SignalKind(f"{_M}:match_env_value", required=("name", "value"), regex_keys=("name", "value")),
        "granted_action": SignalKind(f"{_M}:match_granted_action", required=("actions",)),
        "gcp_role": SignalKind(f"{_M}:match_gcp_role", required=("roles",), regex_keys=("roles",)),
        "credential_location": SignalKind(f"{_M}:match_credential_location", required=("pattern",),
                                          regex_keys=("pattern",)),
        "vendor_trust": SignalKind(f"{_M}:match_vendor_trust", regex_keys=("description",)),
        "user_agent": SignalKind(f"{_M}:match_user_agent", required=("field",)),
        "all_of": SignalKind(f"{_M}:match_all_of", required=("signals",)),
    },
    formats={
        "md": OutputFormat("agentreach.report.md:render_md", description="Markdown, for a ticket or a chat"),
        "html": OutputFormat("agentreach.report.html:render_html",
                             description="one self-contained page (inline CSS and SVG, nothing fetched)"),
        "json": OutputFormat("agentreach.report:render_json", description="the report as JSON"),
        "csv": OutputFormat("agentreach.report.csv:render_csv", description="one row per finding"),
        "sarif": OutputFormat("agentreach.report.sarif:render_sarif", description="SARIF 2.1.0, for code scanning"),
        "ocsf": OutputFormat("agentreach.report.ocsf:render_ocsf",
                             description="OCSF 1.8.0 Detection Findings (JSON array), for SIEMs and data lakes"),
    },
)
