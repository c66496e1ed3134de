"""A labelled estate for the agent classifier: realistic records across AWS, Azure, GCP and
files, each case labelled ``agent`` or ``not_agent``, with the keyword traps marked.

Used by tests/test_classifier.py (per-case assertions) and bench/classifier_eval.py
(precision, recall, misclassified cases). Records are built the way the connectors build
them (same types, same attribute names), so the signals are exercised as in a real scan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from agentreach.model import (
    Credential,
    Edge,
    EdgeKind,
    Identity,
    Location,
    Node,
    Policy,
    Workload,
    node_id,
)

ACCT = "111122223333"
T0 = dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)


@dataclass
class Case:
    name: str
    label: str  # agent | not_agent
    trap: bool = False
    note: str = ""
    spec: dict[str, Any] = field(default_factory=dict)


def trust(*services: str, source_arn: str | None = None, aws: list[str] | None = None) -> dict[str, Any]:
    stmts = []
    for svc in services:
        stmt: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": svc}, "Action": "sts:AssumeRole"}
        if source_arn:
            stmt["Condition"] = {"ArnLike": {"aws:SourceArn": source_arn},
                                 "StringEquals": {"aws:SourceAccount": ACCT}}
        stmts.append(stmt)
    if aws:
        stmts.append({"Effect": "Allow", "Principal": {"AWS": aws}, "Action": "sts:AssumeRole"})
    return {"Version": "2012-10-17", "Statement": stmts}


def allow(*actions: str, resource: str = "*") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}]}


def aws_trust(principal: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]}


AGENT_ARN = f"arn:aws:bedrock:us-east-1:{ACCT}:agent/ABCDEFGHIJ"
GATEWAY_ARN = f"arn:aws:bedrock-agentcore:us-east-1:{ACCT}:gateway/tools-gw-1"

CASES: list[Case] = [
    # ------------------------------------------------------------------ agents (AWS)
    Case("AmazonBedrockExecutionRoleForAgents_K7Q2M4X9ZP", "agent", note="console-made agent role, agent linked",
         spec={"type": "role", "trust": trust("bedrock.amazonaws.com", source_arn=AGENT_ARN),
               "workloads": [{"type": "aws_bedrock_agent", "name": "claims-agent"}],
               "inline": allow("bedrock:InvokeModel")}),
    Case("orders-agent-exec", "agent", note="agent role whose agent lives in an unscanned region",
         spec={"type": "role", "trust": trust("bedrock.amazonaws.com", source_arn=f"arn:aws:bedrock:eu-west-1:{ACCT}:agent/*")}),
    Case("research-runtime", "agent", spec={"type": "role", "trust": trust("bedrock-agentcore.amazonaws.com"),
                                             "workloads": [{"type": "aws_agentcore_runtime", "name": "research"}]}),
    Case("AmazonBedrockAgentCoreSDKRuntime-us-east-1-3fa9c1d2e4", "agent",
         spec={"type": "role", "trust": trust("bedrock-agentcore.amazonaws.com",
                                              source_arn=f"arn:aws:bedrock-agentcore:us-east-1:{ACCT}:*")}),
    Case("tools-gateway-role", "agent", spec={"type": "role", "trust": trust("bedrock-agentcore.amazonaws.com"),
                                               "workloads": [{"type": "aws_agentcore_gateway", "name": "tools-gw"}]}),
    Case("crm-lookup-fn-role", "agent", note="action-group Lambda of a Bedrock agent",
         spec={"type": "role", "trust": trust("lambda.amazonaws.com"),
               "workloads": [{"type": "aws_lambda_function", "name": "crm-lookup",
                              "invoker": ("bedrock.amazonaws.com", AGENT_ARN)}]}),
    Case("ticket-search-fn-role", "agent", note="gateway target Lambda",
         spec={"type": "role", "trust": trust("lambda.amazonaws.com"),
               "workloads": [{"type": "aws_lambda_function", "name": "ticket-search",
                              "invoker": ("bedrock-agentcore.amazonaws.com", GATEWAY_ARN)}]}),
    Case("rag-worker-task", "agent", spec={"type": "role", "trust": trust("ecs-tasks.amazonaws.com"),
                                            "inline": allow("bedrock:InvokeModel", "s3:GetObject"),
                                            "workloads": [{"type": "aws_ecs_task_definition", "name": "rag-worker:4",
                                                           "env": ["OPENAI_API_KEY", "LANGSMITH_API_KEY", "LOG_LEVEL"]}]}),
    Case("support-triage-fn-role", "agent", spec={"type": "role", "trust": trust("lambda.amazonaws.com"),
                                                   "workloads": [{"type": "aws_lambda_function", "name": "support-triage",
                                                                  "env": ["ANTHROPIC_API_KEY", "ZENDESK_URL"]}]}),
    Case("ops-copilot-ec2", "agent", note="an agent on EC2; only its grants and tag say so",
         spec={"type": "role", "trust": trust("ec2.amazonaws.com"),
               "inline": allow("bedrock:InvokeModel", "bedrock:InvokeAgent", "bedrock-agentcore:GetResourceApiKey"),
               "tags": {"Purpose": "ai-agent"}}),
    Case("support-agent-svc", "agent", spec={"type": "user", "tags": {"Purpose": "ai-agent", "Owner": "ml@example.com"},
                                              "inline": allow("bedrock:InvokeModel", "bedrock:InvokeAgent"),
                                              "keys": 1}),
    Case("report-writer-bot", "agent", note="user whose only workload-like evidence is telemetry",
         spec={"type": "user", "user_agents": ["Boto3/1.34 md/Botocore#1.34 x-client-framework:langchain-aws"], "keys": 1}),
    Case("mcp-tools-task", "agent", spec={"type": "role", "trust": trust("ecs-tasks.amazonaws.com"),
                                           "inline": allow("bedrock-agentcore:GetWorkloadAccessToken",
                                                           "bedrock-agentcore:GetResourceApiKey"),
                                           "workloads": [{"type": "aws_ecs_task_definition", "name": "mcp-tools:2",
                                                          "env": ["MCP_GITHUB_TOKEN"]}]}),
    Case("summariser-fn-role", "agent", spec={"type": "role", "trust": trust("lambda.amazonaws.com"),
                                               "description": "LangChain agent that summarises tickets",
                                               "workloads": [{"type": "aws_lambda_function", "name": "summariser",
                                                              "env": ["OPENAI_API_KEY"]}]}),
    Case("data-access-for-agents", "agent", note="assumable only by an agent role",
         spec={"type": "role", "trust": {"Version": "2012-10-17", "Statement": [
             {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:role/research-runtime"},
              "Action": "sts:AssumeRole"}]}}),
    Case("strands-worker", "agent", spec={"type": "role", "trust": trust("ecs-tasks.amazonaws.com"),
                                           "user_agents": ["Boto3/1.35 ua/2.0 strands-agents"]}),
    # ------------------------------------------------------------------ agents (Azure)
    Case("Contoso Helpdesk Agent", "agent", spec={"type": "azure_sp",
                                                   "attrs": {"odata_type": "#microsoft.graph.agentIdentity",
                                                             "agent_identity_blueprint_id": "7b1c"}}),
    Case("Contoso Agent Blueprint", "agent", spec={"type": "azure_app",
                                                    "attrs": {"odata_type": "#microsoft.graph.agentIdentityBlueprint"}}),
    Case("sales-assist@contoso.com", "agent", spec={"type": "azure_user",
                                                     "attrs": {"odata_type": "#microsoft.graph.agentUser"}}),
    Case("foundry-planner", "agent", spec={"type": "azure_sp", "attrs": {"sign_in_agent_type": "agenticAppInstance"}}),
    # ------------------------------------------------------------------ agents (GCP)
    Case("service-481516234200@gcp-sa-aiplatform-re.iam.gserviceaccount.com", "agent", spec={"type": "gcp_sa"}),
    Case("principal://agents.global.org-1234567890.system.id.goog/resources/aiplatform/projects/481516234200/"
         "locations/us-central1/reasoningEngines/8812", "agent", spec={"type": "gcp_principal"}),
    Case("adk-runner@agents-prod.iam.gserviceaccount.com", "agent",
         spec={"type": "gcp_sa", "user_agents": ["google-adk/1.2.0 gl-python/3.12"]}),
    # ------------------------------------------------------------------ agent credentials
    Case("AKIAAGENTKEY00000001", "agent", note="access key of support-agent-svc",
         spec={"type": "key_of", "identity": "support-agent-svc"}),
    Case("AKIAAGENTKEY00000002", "agent", note="access key of report-writer-bot",
         spec={"type": "key_of", "identity": "report-writer-bot"}),
    Case("github MCP server token", "agent", spec={"type": "file_secret", "detector": "GitHub Token",
                                                   "context": "mcp_client_config"}),
    Case("OPENAI_API_KEY in agents/.env", "agent", spec={"type": "file_secret", "detector": "OpenAI Project Key",
                                                         "context": "agent_framework:langgraph"}),
    # ------------------------------------------------------------------ keyword traps
    Case("cloudwatch-agent-role", "not_agent", trap=True,
         spec={"type": "role", "trust": trust("ec2.amazonaws.com"), "managed": ["CloudWatchAgentServerPolicy"]}),
    Case("ssm-agent-instance-role", "not_agent", trap=True,
         spec={"type": "role", "trust": trust("ec2.amazonaws.com"), "managed": ["AmazonSSMManagedInstanceCore"]}),
    Case("datadog-agent", "not_agent", trap=True, spec={"type": "user", "keys": 1,
                                                        "inline": allow("cloudwatch:GetMetricData", "ec2:Describe*")}),
    Case("ecs-agent-instance", "not_agent", trap=True,
         spec={"type": "role", "trust": trust("ec2.amazonaws.com"), "managed": ["AmazonEC2ContainerServiceforEC2Role"]}),
    Case("newrelic-agent-role", "not_agent", trap=True,
         spec={"type": "role", "trust": aws_trust("arn:aws:iam::754728514883:root")}),
    Case("build-agent", "not_agent", trap=True, spec={"type": "role", "trust": trust("codebuild.amazonaws.com"),
                                                      "inline": allow("ecr:*", "s3:PutObject")}),
    Case("insurance-agents-portal", "not_agent", trap=True,
         spec={"type": "role", "trust": trust("lambda.amazonaws.com"),
               "description": "backend of the portal our insurance agents use"}),
    Case("travel-agent-booking-svc", "not_agent", trap=True,
         spec={"type": "role", "trust": trust("ecs-tasks.amazonaws.com"), "inline": allow("dynamodb:PutItem")}),
    Case("user-agent-parser-fn", "not_agent", trap=True, spec={"type": "role", "trust": trust("lambda.amazonaws.com")}),
    Case("agentless-scanner", "not_agent", trap=True,
         spec={"type": "role", "trust": aws_trust("arn:aws:iam::999988887777:root"),
               "managed": ["SecurityAudit"]}),
    Case("copilot-cli-deployer", "not_agent", trap=True,
         spec={"type": "role", "trust": trust("cloudformation.amazonaws.com"), "inline": allow("ecs:*")}),
    Case("chat-widget-backend", "not_agent", trap=True,
         spec={"type": "role", "trust": trust("lambda.amazonaws.com"),
               "description": "support widget that forwards website chat to the call center"}),
    Case("AmazonSageMaker-ExecutionRole-20240312T101500", "not_agent", trap=True, note="ML training, not an agent",
         spec={"type": "role", "trust": trust("sagemaker.amazonaws.com"), "managed": ["AmazonSageMakerFullAccess"]}),
    Case("bedrock-batch-inference", "not_agent", trap=True,
         spec={"type": "role", "trust": trust("bedrock.amazonaws.com",
                                              source_arn=f"arn:aws:bedrock:us-east-1:{ACCT}:model-invocation-job/*"),
               "inline": allow("bedrock:InvokeModel", "s3:GetObject")}),
    Case("bedrock-fine-tuning", "not_agent", trap=True,
         spec={"type": "role", "trust": trust("bedrock.amazonaws.com",
                                              source_arn=f"arn:aws:bedrock:us-east-1:{ACCT}:model-customization-job/*")}),
    Case("bedrock-invocation-logging", "not_agent", trap=True,
         spec={"type": "role", "trust": trust("bedrock.amazonaws.com"), "inline": allow("logs:PutLogEvents")}),
    Case("embeddings-pipeline-fn-role", "not_agent", trap=True,
         spec={"type": "role", "trust": trust("lambda.amazonaws.com"), "inline": allow("bedrock:InvokeModel")}),
    Case("dana.scientist", "not_agent", trap=True, note="a person calling models from a notebook",
         spec={"type": "user", "console": True, "mfa": True, "managed": ["AmazonBedrockFullAccess"],
               "managed_docs": {"AmazonBedrockFullAccess": allow("bedrock:*")}}),
    Case("agent-smith", "not_agent", trap=True, note="a person whose user name has 'agent' in it",
         spec={"type": "user", "console": True, "mfa": True}),
    Case("gpt-disk-resizer", "not_agent", trap=True, note="GPT = GUID partition table",
         spec={"type": "role", "trust": trust("ssm.amazonaws.com"), "inline": allow("ec2:ModifyVolume")}),
    Case("rag-status-reporter", "not_agent", trap=True, note="RAG = red/amber/green",
         spec={"type": "role", "trust": trust("lambda.amazonaws.com"), "inline": allow("cloudwatch:PutMetricData")}),
    Case("mcp-exam-portal", "not_agent", trap=True, note="Microsoft Certified Professional exams",
         spec={"type": "user", "keys": 1, "inline": allow("s3:GetObject")}),
    Case("datadog-agent (Azure)", "not_agent", trap=True, spec={"type": "azure_sp", "name": "datadog-agent"}),
    Case("ops-agent@infra-prod.iam.gserviceaccount.com", "not_agent", trap=True, note="Google Ops Agent",
         spec={"type": "gcp_sa", "name": "ops-agent-monitoring", "description": "monitoring agent for VM metrics"}),
    Case("service-481516234200@gcp-sa-aiplatform.iam.gserviceaccount.com", "not_agent", trap=True,
         note="the Vertex AI service agent: AI, but not an agent's identity", spec={"type": "gcp_sa"}),
    Case("openai-reporting-app", "not_agent", trap=True, note="Azure app calling Azure OpenAI for a report",
         spec={"type": "azure_sp", "attrs": {"granted_actions": [
             "Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action"]}}),
    # ------------------------------------------------------------------ ordinary non-agents
    Case("ci-deploy", "not_agent", spec={"type": "user", "keys": 1, "tags": {"Team": "platform"},
                                         "inline": allow("cloudformation:*", "s3:*")}),
    Case("glue-etl", "not_agent", spec={"type": "role", "trust": trust("glue.amazonaws.com"), "tags": {"Team": "data"}}),
    Case("thumbnailer-exec", "not_agent", spec={"type": "role", "trust": trust("lambda.amazonaws.com"),
                                                "workloads": [{"type": "aws_lambda_function", "name": "thumbnailer",
                                                               "env": ["BUCKET", "MAX_WIDTH"]}]}),
    Case("legacy-admin", "not_agent", spec={"type": "role", "trust": aws_trust(f"arn:aws:iam::{ACCT}:root"),
                                            "inline": allow("*")}),
    Case("aws-backup-role", "not_agent", spec={"type": "role", "trust": trust("backup.amazonaws.com")}),
    Case("rds-monitoring-role", "not_agent", spec={"type": "role", "trust": trust("monitoring.rds.amazonaws.com")}),
    Case("terraform-apply", "not_agent", spec={"type": "role", "trust": aws_trust(f"arn:aws:iam::{ACCT}:root"),
                                               "inline": allow("*")}),
    Case("auditor", "not_agent", spec={"type": "user", "console": True, "mfa": True, "managed": ["SecurityAudit"]}),
    Case("billing-viewer", "not_agent", spec={"type": "user", "console": True}),
    Case("481516234200-compute@developer.gserviceaccount.com", "not_agent", spec={"type": "gcp_sa"}),
    Case("contoso-web-frontend", "not_agent", spec={"type": "azure_sp"}),
    Case("AKIACIDEPLOYKEY00001", "not_agent", spec={"type": "key_of", "identity": "ci-deploy"}),
    Case("GITHUB_TOKEN in .env", "not_agent", spec={"type": "file_secret", "detector": "GitHub Token", "context": ""}),
    Case("STRIPE_SECRET in config.yaml", "not_agent", spec={"type": "file_secret", "detector": "Stripe Access Key",
                                                             "context": ""}),
]


def build() -> tuple[list[Node], list[Edge], dict[str, Case]]:
    """The nodes and edges of the estate, and the case behind each labelled node id."""
    nodes: list[Node] = []
    edges: list[Edge] = []
    labelled: dict[str, Case] = {}
    ids_by_name: dict[str, str] = {}
    for case in CASES:
        spec = case.spec
        kind = spec["type"]
        if kind in ("role", "user"):
            node, more_nodes, more_edges = _aws_identity(case)
            ids_by_name[case.name] = node.id
        elif kind.startswith(("azure", "gcp")):
            node = _other_cloud(case)
            more_nodes, more_edges = [], []
        elif kind == "file_secret":
            node, more_nodes, more_edges = _file_secret(case)
        else:
            continue
        nodes += [node, *more_nodes]
        edges += more_edges
        labelled[node.id] = case
    for case in CASES:
        if case.spec["type"] == "key_of":
            cred = Credential(id=node_id("aws", "access_key", case.name), provider="aws", source="aws",
                              type="aws_access_key", name=case.name, native_id=case.name, account=ACCT, created=T0)
            nodes.append(cred)
            edges.append(Edge(src=cred.id, dst=ids_by_name[case.spec["identity"]], kind=EdgeKind.AUTHENTICATES,
                              source="aws"))
            labelled[cred.id] = case
    return nodes, edges, labelled


def _aws_identity(case: Case) -> tuple[Node, list[Node], list[Edge]]:
    spec = case.spec
    is_role = spec["type"] == "role"
    arn = f"arn:aws:iam::{ACCT}:{'role' if is_role else 'user'}/{case.name}"
    ident = Identity(
        id=node_id("aws", "iam_role" if is_role else "iam_user", arn), provider="aws", source="aws",
        type="aws_iam_role" if is_role else "aws_iam_user", name=case.name, native_id=arn, account=ACCT,
        created=T0, tags=spec.get("tags", {}),
        attrs={"trust_policy": spec.get("trust", {}) if is_role else None,
               "inline_policies": [{"name": "inline", "document": spec["inline"]}] if "inline" in spec else [],
               "description": spec.get("description"), "mfa_active": spec.get("mfa", False),
               "password_enabled": spec.get("console", False), "user_agents": spec.get("user_agents", [])},
    )
    nodes: list[Node] = []
    edges: list[Edge] = []
    for pol_name in spec.get("managed", []):
        pol_arn = f"arn:aws:iam::aws:policy/{pol_name}"
        doc = spec.get("managed_docs", {}).get(pol_name, {})
        nodes.append(Policy(id=node_id("aws", "iam_policy", pol_arn), provider="aws", source="aws",
                            type="aws_iam_policy", name=pol_name, native_id=pol_arn, document=doc))
        edges.append(Edge(src=ident.id, dst=node_id("aws", "iam_policy", pol_arn), kind=EdgeKind.HAS_POLICY,
                          source="aws", key="managed", attrs={"attachment": "managed", "policy_arn": pol_arn}))
    for i, w in enumerate(spec.get("workloads", [])):
        warn = f"arn:aws:{w['type']}:us-east-1:{ACCT}:{w['name']}"
        policy = None
        if "invoker" in w:
            svc, source = w["invoker"]
            policy = {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": svc}, "Action": "lambda:InvokeFunction",
                "Resource": warn, "Condition": {"ArnLike": {"AWS:SourceArn": source}}}]}
        wl = Workload(id=node_id("aws", w["type"], warn), provider="aws", source="aws", type=w["type"], name=w["name"],
                      native_id=warn, account=ACCT, env_var_names=tuple(w.get("env", ())),
                      attrs={"resource_policy": policy})
        nodes.append(wl)
        edges.append(Edge(src=wl.id, dst=ident.id, kind=EdgeKind.RUNS_AS, source="aws", key=str(i)))
    if spec.get("console"):
        cred = Credential(id=node_id("aws", "console_password", arn), provider="aws", source="aws",
                          type="aws_console_password", name=f"{case.name} (console)", account=ACCT,
                          last_used=T0 + dt.timedelta(days=100))
        nodes.append(cred)
        edges.append(Edge(src=cred.id, dst=ident.id, kind=EdgeKind.AUTHENTICATES, source="aws"))
    return ident, nodes, edges


def _other_cloud(case: Case) -> Node:
    spec = case.spec
    provider = "azure" if spec["type"].startswith("azure") else "gcp"
    name = spec.get("name", case.name)
    return Identity(id=node_id(provider, spec["type"], case.name), provider=provider, source=provider,
                    type=spec["type"], name=name, native_id=case.name, created=T0,
                    attrs={**spec.get("attrs", {}), "description": spec.get("description"),
                           "user_agents": spec.get("user_agents", [])})


def _file_secret(case: Case) -> tuple[Node, list[Node], list[Edge]]:
    spec = case.spec
    fp = "sha256:" + hashlib.sha256(case.name.encode()).hexdigest()
    cred = Credential(id=node_id("files", "secret", fp), provider="files", source="files", type="file_secret",
                      name=case.name, fingerprint=fp, attrs={"detector": spec["detector"]})
    loc = Location(id=node_id("files", "location", case.name), provider="files", source="files",
                   type="file_location", name=case.name, path=".env", line=3,
                   attrs={"context": spec["context"]})
    return cred, [loc], [Edge(src=cred.id, dst=loc.id, kind=EdgeKind.FOUND_IN, source="files")]
