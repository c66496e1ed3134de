"""The evidence classes of issue 15, one small estate each: declared purpose (tags and labels
in every spelling, Entra's bare tags), frameworks in text and allow-listed configuration
values, cross-source keys, federation to agent workloads, tool executors (a Lambda policy
whose Principal is a bare string), propagation from possible, AI vendors, cloud grants and
runtimes, name patterns and traps, and a person's review deciding the verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import pytest
from agentreach_connectors.aws.functions import with_object_principals

from agentreach.classify import SnapshotView, Thresholds, classify, load_signals
from agentreach.classify.envvalues import readable_values
from agentreach.classify.text import words
from agentreach.config import ConfigError
from agentreach.model import Credential, Edge, EdgeKind, Identity, Location, Node, System, Workload

ACCT = "111122223333"
SIGNALS = load_signals()


def role(name: str, *, trust: dict | None = None, tags: dict | None = None, description: str | None = None,
         inline: dict | None = None) -> Identity:
    arn = f"arn:aws:iam::{ACCT}:role/{name}"
    return Identity(id=f"aws:iam_role:{arn}", provider="aws", source="aws", type="aws_iam_role", name=name,
                    native_id=arn, account=ACCT, tags=tags or {},
                    attrs={"trust_policy": trust or service_trust("lambda.amazonaws.com"), "description": description,
                           "inline_policies": [{"name": "p", "document": inline}] if inline else []})


def service_trust(service: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service},
                                                    "Action": "sts:AssumeRole"}]}


def allow(*actions: str, resource: str = "*") -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}]}


def lam(name: str, runs_as: Identity, **attrs: Any) -> tuple[Workload, Edge]:
    arn = f"arn:aws:lambda:us-east-1:{ACCT}:function:{name}"
    w = Workload(id=f"aws:lambda_function:{arn}", provider="aws", source="aws", type="aws_lambda_function", name=name,
                 native_id=arn, account=ACCT, tags=attrs.pop("tags", {}), env_var_names=tuple(attrs.pop("env", ())),
                 attrs=attrs)
    return w, Edge(src=w.id, dst=runs_as.id, kind=EdgeKind.RUNS_AS, source="aws")


def verdicts(records: Iterable[Node | Edge], reviews: dict | None = None) -> dict[str, Any]:
    records = list(records)
    nodes = [r for r in records if not isinstance(r, Edge)]
    edges = [r.to_dict() for r in records if isinstance(r, Edge)]
    return classify(SnapshotView.build(nodes, edges), SIGNALS, Thresholds(), reviews)


def signals_of(v: Any) -> set[str]:
    return {e.signal for e in v.evidence}


# -- 1. declared purpose ------------------------------------------------------------------------

@pytest.mark.parametrize("tags", [
    {"workload-type": "ai-agent"}, {"WorkloadType": "AIAgent"}, {"ai:agent": "true"}, {"agent_framework": "crewai"},
    {"stack": "langgraph"}, {"purpose": "mcp-server"}, {"framework": "google-adk"},
])
def test_a_tag_that_declares_an_agent_is_medium_evidence_in_every_spelling(tags: dict) -> None:
    r = role("orders-worker", tags=tags, inline=allow("bedrock:InvokeModel"))
    v = verdicts([r])[r.id]
    assert "any.tag.declared-purpose" in signals_of(v)
    assert v.verdict == "agent", (v.verdict, v.score, signals_of(v))


@pytest.mark.parametrize("tags", [{"workload-type": "batch"}, {"Name": "agent-cluster"},
                                  {"DatadogAgentlessScanner": "true"}, {"purpose": "monitoring"}])
def test_tags_that_declare_no_agent_do_not_count(tags: dict) -> None:
    r = role("orders-worker", tags=tags)
    assert "any.tag.declared-purpose" not in signals_of(verdicts([r])[r.id])


def test_entra_bare_tags_and_gcp_labels_match() -> None:
    sp = Identity(id="azure:sp:1", provider="azure", source="azure", type="azure_sp", name="helpdesk",
                  tags={"ai-agent": "", "azd-env-name:dev": ""})
    engine = Workload(id="gcp:reasoning_engine:1", provider="gcp", source="gcp", type="gcp_reasoning_engine",
                      name="e", tags={"agent-framework": "langgraph", "team": "support"})
    sa = Identity(id="gcp:sa:x@p.iam.gserviceaccount.com", provider="gcp", source="gcp", type="gcp_sa", name="x",
                  native_id="x@p.iam.gserviceaccount.com")
    out = verdicts([sp, engine, sa, Edge(src=engine.id, dst=sa.id, kind=EdgeKind.RUNS_AS, source="gcp")])
    assert "any.tag.declared-purpose" in signals_of(out[sp.id])
    declared = next(e for e in out[sa.id].evidence if e.signal == "any.tag.declared-purpose")
    assert declared.via == "runs_as" and declared.matched == "agent-framework=langgraph"


# -- 2. frameworks in text and allow-listed configuration values ---------------------------------

def test_frameworks_named_in_descriptions_and_entra_notes() -> None:
    app = Identity(id="azure:app:1", provider="azure", source="azure", type="azure_app", name="claims-helper",
                   attrs={"notes": "Semantic Kernel planner for claims triage"})
    r = role("svc", description="Runs the CrewAI crew that answers tickets")
    out = verdicts([app, r])
    assert "any.text.agent-framework" in signals_of(out[app.id])
    assert "any.text.agent-framework" in signals_of(out[r.id])


def test_only_allow_listed_non_secret_values_are_kept_and_read() -> None:
    env = {"MODEL_ID": "anthropic.claude-3-5-sonnet-20240620-v1:0", "AGENT_FRAMEWORK": "strands",
           "LLM_PROVIDER": "azure-openai", "OPENAI_API_KEY": "sk-proj-" + "x" * 40,
           "MODEL_NAME": "not a model id at all; drop table", "DB_HOST": "db.internal"}
    kept = readable_values(env)
    assert kept == {"MODEL_ID": "anthropic.claude-3-5-sonnet-20240620-v1:0", "AGENT_FRAMEWORK": "strands",
                    "LLM_PROVIDER": "azure-openai"}
    r = role("fn-role")
    w, e = lam("summarise", r, env_values=kept, env=sorted(env))
    v = verdicts([r, w, e])[r.id]
    assert "any.workload.env-value-model" in signals_of(v)
    assert not any("sk-proj" in e.matched for e in v.evidence)


# -- 3. cross-source ----------------------------------------------------------------------------

def test_a_key_found_in_an_agent_project_raises_the_live_identity() -> None:
    user = Identity(id=f"aws:iam_user:arn:aws:iam::{ACCT}:user/svc", provider="aws", source="aws", type="aws_iam_user",
                    name="svc", native_id=f"arn:aws:iam::{ACCT}:user/svc", account=ACCT)
    key = Credential(id="aws:access_key:AKIAEXAMPLE", provider="aws", source="aws", type="aws_access_key",
                     name="AKIAEXAMPLE", native_id="AKIAEXAMPLE")
    loc = Location(id="files:location:1", provider="files", source="files", type="file_location", name="app/.env:3",
                   path="app/.env", line=3, attrs={"context": "agent_framework:langgraph"})
    out = verdicts([user, key, loc, Edge(src=key.id, dst=user.id, kind=EdgeKind.AUTHENTICATES, source="aws"),
                    Edge(src=key.id, dst=loc.id, kind=EdgeKind.FOUND_IN, source="link:files")])
    assert "any.identity.key-in-agent-project" in signals_of(out[user.id])
    assert "any.credential.found-in-agent-project" in signals_of(out[key.id])


# -- 4. federation -------------------------------------------------------------------------------

def oidc_trust(provider: str, sub: str, key: str = "sub") -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCT}:oidc-provider/{provider}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringLike": {f"{provider}:{key}": sub}}}]}


def test_irsa_to_an_agent_framework_and_github_oidc_of_a_coding_agent() -> None:
    irsa = role("kagent-bedrock", trust=oidc_trust("oidc.eks.us-east-1.amazonaws.com/id/ABC",
                                                   "system:serviceaccount:kagent:kagent-controller"))
    gha = role("ci-claude", trust=oidc_trust("token.actions.githubusercontent.com",
                                             "octo/repo/.github/workflows/claude-code.yml@refs/heads/main",
                                             "job_workflow_ref"))
    cw = role("cw-agent", trust=oidc_trust("oidc.eks.us-east-1.amazonaws.com/id/ABC",
                                           "system:serviceaccount:amazon-cloudwatch:cloudwatch-agent"))
    out = verdicts([irsa, gha, cw])
    assert "any.federation.agent-workload" in signals_of(out[irsa.id])
    assert "any.federation.coding-agent" in signals_of(out[gha.id])
    assert "federation.trap.infrastructure-agent" in signals_of(out[cw.id]) and out[cw.id].verdict == "none"


def test_entra_federated_credentials_copilot_environment_and_entra_issuer() -> None:
    sp = Identity(id="azure:sp:2", provider="azure", source="azure", type="azure_sp", name="repo-bot")
    fic = Credential(id="azure:cred:1", provider="azure", source="azure", type="azure_federated_credential",
                     name="f", attrs={"issuer": "https://token.actions.githubusercontent.com",
                                      "subject": "repo:octo/app:environment:copilot"})
    sp2 = Identity(id="azure:sp:3", provider="azure", source="azure", type="azure_sp", name="mcp-auth")
    self_issued = Credential(id="azure:cred:2", provider="azure", source="azure", type="azure_federated_credential",
                             name="g", attrs={"issuer": "https://login.microsoftonline.com/t-1/v2.0", "subject": "p-1"})
    out = verdicts([sp, fic, sp2, self_issued,
                    Edge(src=fic.id, dst=sp.id, kind=EdgeKind.AUTHENTICATES, source="azure"),
                    Edge(src=self_issued.id, dst=sp2.id, kind=EdgeKind.AUTHENTICATES, source="azure")])
    assert "any.federation.coding-agent" in signals_of(out[sp.id])
    assert "azure.federation.self-issued" in signals_of(out[sp2.id])


def test_a_managed_identity_that_is_an_agent_apps_federated_credential_follows_it() -> None:
    mi = Identity(id="azure:mi:p-1", provider="azure", source="azure", type="azure_managed_identity", name="id-api",
                  native_id="p-1")
    blueprint = Identity(id="azure:sp:bp", provider="azure", source="azure", type="azure_sp", name="bp",
                         attrs={"odata_type": "#microsoft.graph.agentIdentityBlueprintPrincipal"})
    fic = Credential(id="azure:cred:3", provider="azure", source="azure", type="azure_federated_credential",
                     name="my-msi", attrs={"issuer": "https://login.microsoftonline.com/t-1/v2.0", "subject": "p-1"})
    out = verdicts([mi, blueprint, fic, Edge(src=fic.id, dst=blueprint.id, kind=EdgeKind.AUTHENTICATES,
                                             source="azure")])
    lent = next(e for e in out[mi.id].evidence if e.signal == "propagated.federated-credential-of-agent")
    assert out[mi.id].verdict == "agent" and lent.weight == 0.9 and "bp" in lent.matched


# -- 5. tool executors -----------------------------------------------------------------------------

def test_a_bare_string_principal_is_kept_as_the_object_iam_writes() -> None:
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "a", "Effect": "Allow", "Principal": ACCT, "Action": "lambda:InvokeFunction", "Resource": "x"},
        {"Sid": "b", "Effect": "Allow", "Principal": f"arn:aws:iam::{ACCT}:role/agent", "Action": "lambda:*"},
        {"Sid": "c", "Effect": "Allow", "Principal": "bedrock.amazonaws.com", "Action": "lambda:InvokeFunction"},
        {"Sid": "d", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction"}]}
    fixed = with_object_principals(policy)
    assert [s["Principal"] for s in fixed["Statement"]] == [
        {"AWS": ACCT}, {"AWS": f"arn:aws:iam::{ACCT}:role/agent"}, {"Service": "bedrock.amazonaws.com"}, "*"]
    r = role("tool-role")
    w, e = lam("lookup", r, resource_policy=fixed)
    assert "aws.tool.invoked-by-agent" in signals_of(verdicts([r, w, e])[r.id])


def test_a_lambda_an_agent_may_invoke_by_name_is_its_tool() -> None:
    gateway = role("gw", trust=service_trust("bedrock-agentcore.amazonaws.com"),
                   inline=allow("lambda:InvokeFunction", resource=f"arn:aws:lambda:us-east-1:{ACCT}:function:lookup"))
    tool = role("lookup-role")
    w, e = lam("lookup", tool)
    wildcard = role("other", inline=allow("lambda:InvokeFunction", resource="*"))
    out = verdicts([gateway, tool, w, e, wildcard])
    assert out[gateway.id].verdict == "agent"
    assert "propagated.tool-of-agent" in signals_of(out[tool.id]) and out[tool.id].verdict == "agent"


def test_mcp_hosts_by_name() -> None:
    r = role("tools")
    w, e = lam("mcp-server-weather", r)
    assert {"any.mcp.server-named", "any.mcp.named"} <= signals_of(verdicts([r, w, e])[r.id])


# -- 6. propagation from possible ------------------------------------------------------------------

def test_a_role_only_possible_agents_may_assume_rises_less_than_from_an_agent() -> None:
    maybe = role("summariser", description="an AI agent that summarises tickets")  # words only: possible
    agent = role("runtime", trust=service_trust("bedrock-agentcore.amazonaws.com"))

    def trusted_by(name: str, who: Identity) -> Identity:
        return role(name, trust={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": who.native_id}, "Action": "sts:AssumeRole"}]})

    from_possible, from_agent = trusted_by("data-a", maybe), trusted_by("data-b", agent)
    out = verdicts([maybe, agent, from_possible, from_agent])
    assert out[maybe.id].verdict == "possible" and out[agent.id].verdict == "agent"
    weak = next(e for e in out[from_possible.id].evidence if e.signal == "propagated.assumed-only-by-agents")
    strong = next(e for e in out[from_agent.id].evidence if e.signal == "propagated.assumed-only-by-agents")
    assert weak.weight < strong.weight and weak.strength == "medium"


# -- 7. AI vendors, 8. cloud grants and runtimes ---------------------------------------------------

def test_a_vendor_role_with_an_external_id_and_an_ai_description() -> None:
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "abc"}}}]}
    vendor = role("acme-sre", trust=trust, description="Read-only access for the Acme AI SRE agent")
    plain = role("monitoring-vendor", trust=trust, description="Read-only access for metrics collection")
    out = verdicts([vendor, plain])
    assert "aws.vendor.ai-external-id" in signals_of(out[vendor.id])
    assert "aws.vendor.ai-external-id" not in signals_of(out[plain.id])


def test_gcp_vertex_grants_foundry_projects_and_azure_wildcard_data_actions() -> None:
    sa = Identity(id="gcp:sa:app@p.iam.gserviceaccount.com", provider="gcp", source="gcp", type="gcp_sa", name="app",
                  native_id="app@p.iam.gserviceaccount.com")
    project = System(id="gcp:project:p", provider="gcp", source="gcp", type="gcp_project", name="p",
                     resource_policy={"bindings": [{"role": "roles/aiplatform.user",
                                                    "members": ["serviceAccount:app@p.iam.gserviceaccount.com"]}]})
    mi = Identity(id="azure:mi:m", provider="azure", source="azure", type="azure_managed_identity", name="m",
                  attrs={"granted_actions": ["Microsoft.CognitiveServices/*"]})
    foundry = Workload(id="azure:resource:p", provider="azure", source="azure", type="azure_resource", name="a/proj",
                       attrs={"resource_type": "Microsoft.CognitiveServices/accounts/projects"})
    out = verdicts([sa, project, mi, foundry, Edge(src=foundry.id, dst=mi.id, kind=EdgeKind.RUNS_AS, source="azure")])
    assert "gcp.grant.vertex-ai" in signals_of(out[sa.id])
    assert {"azure.linked.foundry-project", "azure.grant.foundry-agents"} <= signals_of(out[mi.id])
    assert out[mi.id].verdict == "agent"


# -- 9. names and traps ------------------------------------------------------------------------------

def test_names_are_read_as_words() -> None:
    assert words("AgentTaskRole") == words("agent-task-role") == words("agent_task_role") == "agent task role"
    assert words("CrewAI") == "crew ai" and words("call-center") == "call center"
    out = verdicts([chat := role("chatgpt-helper"), gpt := role("gpt4o-summariser"),
                    call := role("call-center-agents")])
    assert "any.name.ai-words" in signals_of(out[chat.id]) and "any.name.ai-words" in signals_of(out[gpt.id])
    assert "any.trap.agentless-and-user-agent" in signals_of(out[call.id])


# -- review ----------------------------------------------------------------------------------------

def test_a_review_decides_the_verdict_whatever_the_signals_say() -> None:
    from agentreach.classify import review_evidence
    from agentreach.review import Reviewed, with_decision

    strong = role("runtime", trust=service_trust("bedrock-agentcore.amazonaws.com"))
    nothing = role("batch-loader")
    import datetime as dt
    reviewed = with_decision(Reviewed(), strong.id, decision="not-agent", reason="an evaluation harness",
                             by="alice@example.com", at=dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc))
    reviewed = with_decision(reviewed, nothing.id, decision="agent", reason="the nightly research agent",
                             by="bob@example.com", at=dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc), owner="research")
    out = verdicts([strong, nothing], review_evidence(reviewed))
    assert out[strong.id].verdict == "none" and out[nothing.id].verdict == "agent"
    ev = next(e for e in out[nothing.id].evidence if e.role == "review")
    assert ev.signal == "review.triage" and "bob@example.com" in ev.why and "2026-03-02" in ev.why
    assert "research" in ev.why and out[nothing.id].role == "review"
    assert json.dumps(out[strong.id].to_dict())  # stored as the agent annotation


# -- signal files --------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, error", [
    ("signals:\n  - {id: x, kind: words, fields: [name], pattern: '<<nope>>', weight: 0.3}\n",
     "no vocabulary named 'nope'"),
    ("vocabularies: {bad-name: [a]}\nsignals: []\n", "vocabulary name 'bad-name'"),
    ("signals:\n  - {id: x, kind: all_of, signals: [any.name.ai-words, nope], weight: 0.3}\n",
     "combines 'nope', which is not an enabled signal"),
    ("signals:\n  - {id: x, kind: words, fields: [name], pattern: a, counts: false}\n",
     "counts is false but no all_of signal uses it"),
    ("signals:\n  - {id: x, kind: words, pattern: a, weight: 0.3}\n", "needs fields or workloads"),
])
def test_bad_vocabularies_and_combinations_are_one_line_errors(tmp_path: Path, body: str, error: str) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(body)
    with pytest.raises(ConfigError, match=error):
        load_signals(f)


def test_a_user_vocabulary_extends_every_signal_that_uses_it(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("vocabularies:\n  frameworks: ['acme ?flow']\nsignals: []\n")
    r = role("svc", description="runs AcmeFlow pipelines")
    out = classify(SnapshotView.build([r], []), load_signals(f), Thresholds())
    assert "any.text.agent-framework" in signals_of(out[r.id])


@pytest.mark.parametrize("image, fires", [
    ("us-central1-docker.pkg.dev/database-toolbox/toolbox/toolbox:0.13.0", True),  # Google's MCP Toolbox
    ("ghcr.io/github/github-mcp-server:v0.13.0", True),
    ("docker.io/mcp/grafana:latest", True), ("mcp/grafana@sha256:" + "0" * 64, True),
    ("mcr.microsoft.com/azure-sdk/azure-mcp", True),
    ("ghcr.io/github/github-mcp-server-fork:1", False),  # another repository whose name merely starts alike
    ("us-docker.pkg.dev/cloudrun/container/hello", False), ("grafana/grafana:11.0.0", False),
])
def test_a_workload_running_an_mcp_servers_image(image: str, fires: bool) -> None:
    """Container images of the MCP servers ToolHive's registry lists (the signal's vocabulary,
    its source in config/agent-signals.yaml): the identity the server runs as acts for agents."""
    svc = Workload(id="gcp:cloud_run_service:p/toolbox", provider="gcp", source="gcp", type="gcp_cloud_run_service",
                   name="toolbox", attrs={"containers": [{"name": "toolbox", "image": image}]})
    sa = Identity(id="gcp:sa:toolbox-identity@p.iam.gserviceaccount.com", provider="gcp", source="gcp",
                  type="gcp_sa", name="toolbox-identity", native_id="toolbox-identity@p.iam.gserviceaccount.com")
    out = verdicts([svc, sa, Edge(src=svc.id, dst=sa.id, kind=EdgeKind.RUNS_AS, source="gcp")])
    assert ("any.workload.mcp-server-image" in signals_of(out[sa.id])) is fires
