"""Benchmark: the GCP connector on a generated organization.

Generates (deterministically, from ``--seed``) an organization with 2 folders and 10
projects, ``--n`` service accounts spread over the projects with 0-2 user-managed keys each
(some expired, disabled or never used), IAM policies with ~3,000 bindings at the defaults
across the organization, folders, projects, service accounts, buckets, secrets and BigQuery
datasets (unconditional and conditional), service agents and agent principals as members,
Agent Engine reasoning engines, API keys, a workload identity pool, deny policies, and two
custom roles beside the predefined roles (with ``includedPermissions``) the fake ships.

The estate is served by the shipped fakes (``agentreach_testing.gcp_fake``: the gRPC IAM
admin fake and the REST fake) in this process, and scanned through the CLI in a child
process (``agentreach --db X --config cfg.yaml -q scan --only gcp --format json``, projects
found with ``projects.search`` under the organization). The fakes page at most 2 items (so
that tests cross pages); here their ``PAGE_SIZE`` is raised in this process to the
connector's page size, 100 (``--page-size``), as Google pages. Prints wall time, the
connector's API calls by operation, peak RSS and CPU of the scanning process, objects /
edges, reach edges derived, and what ``inventory --agents --format json`` finds. Timings
are printed, never asserted.

    .venv/bin/python bench/gcp_scan.py [--n 1000] [--seed 7] [--page-size 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from cloudbench import measure, report  # bench/ is on sys.path when a script there runs

ORG = "1001"
FOLDERS = ["2001", "2002"]
N_PROJECTS = 10
ENGINE_AGENT = "service-{number}@gcp-sa-aiplatform-re.iam.gserviceaccount.com"
AGENT_PRINCIPAL = ("principal://agents.global.org-{org}.system.id.goog/resources/aiplatform/projects/{number}/"
                   "locations/us-central1/reasoningEngines/{engine}")
CUSTOM_ROLES = {
    f"organizations/{ORG}/roles/agentRuntime": ["aiplatform.endpoints.predict", "aiplatform.reasoningEngines.query",
                                                "storage.objects.get", "secretmanager.versions.access",
                                                "logging.logEntries.create"],
    "projects/bench-p00/roles/keyMinter": ["iam.serviceAccountKeys.create", "iam.serviceAccountKeys.list",
                                           "iam.serviceAccounts.get"],
}
AGENT_WORDS = ["adk-agent", "gemini-bot", "support-agent", "rag-worker", "langchain-agent", "crew-agent"]
PLAIN_WORDS = ["etl", "billing", "web", "cron", "backup", "ci", "metrics", "reporting", "ingest", "sync"]
# Operations the connector makes once per object (the API has no bulk form), and the estate size they follow.
PER_OBJECT = {"iam:ListServiceAccountKeys": ("PER OBJECT", "service accounts"),
              "iam:GetIamPolicy": ("PER OBJECT", "service accounts"),
              "storage:buckets.getIamPolicy": ("PER OBJECT", "buckets"),
              "secretmanager:secrets.getIamPolicy": ("PER OBJECT", "secrets"),
              "bigquery:datasets.get": ("PER OBJECT", "datasets"),
              "iam_v2:denypolicies.get": ("PER OBJECT", "deny policies"),
              "iam:GetRole": ("PER ROLE, cached for the scan", "distinct roles bound")}
SA_ROLES = ["roles/iam.serviceAccountTokenCreator", "roles/iam.serviceAccountUser", "roles/iam.workloadIdentityUser",
            "roles/iam.serviceAccountKeyAdmin"]


def generate(n: int, seed: int) -> tuple[dict[str, Any], dict[str, int]]:
    """The estate in Google's JSON field names (dates relative: ``now-200d``), and its sizes."""
    from agentreach_testing.gcp_fake import ROLE_PERMISSIONS

    r = random.Random(seed)
    predefined = sorted(ROLE_PERMISSIONS)  # the role definitions the fake already ships
    data_roles = [x for x in predefined if x.startswith(("roles/storage", "roles/bigquery", "roles/secretmanager",
                                                         "roles/aiplatform.user"))]
    project_roles = [x for x in predefined if not x.startswith("roles/aiplatform.reasoningEngineServiceAgent")]
    stats: Counter[str] = Counter()
    roles_used: set[str] = {"roles/bigquery.dataViewer", "roles/bigquery.dataEditor", "roles/bigquery.dataOwner"}
    users = [f"user:user{i:03d}@example.com" for i in range(200)]
    groups = [f"group:team-{i:02d}@example.com" for i in range(20)]
    projects = []
    for k in range(N_PROJECTS):
        pid, number = f"bench-p{k:02d}", str(100000000000 + k * 1111)
        projects.append({"projectId": pid, "number": number, "parent": f"folders/{FOLDERS[k % 2]}",
                         "labels": {"env": r.choice(["prod", "dev", "staging"]), "team": f"team-{k}"}})

    # Service accounts (plus each project's compute default account), keys, last authentication.
    sa_members: list[str] = []
    agent_sas: dict[str, list[str]] = {p["projectId"]: [] for p in projects}
    for p in projects:
        p["serviceAccounts"] = [{"email": f"{p['number']}-compute@developer.gserviceaccount.com",
                                 "uniqueId": f"1{p['number']}", "displayName": "Compute Engine default service account",
                                 "description": "", "lastAuthenticated": "now-1d"}]
    for i in range(n):
        p = projects[i % N_PROJECTS]
        agentish = r.random() < 0.2
        word = r.choice(AGENT_WORDS if agentish else PLAIN_WORDS)
        email = f"{word}-{i:05d}@{p['projectId']}.iam.gserviceaccount.com"
        desc = (r.choice(["Google ADK agent on Gemini", "LangChain agent calling Vertex AI", "AI support agent"])
                if agentish else f"{word} jobs")
        if r.random() < 0.6:
            desc += f"; owner: {users[r.randrange(len(users))].split(':', 1)[1]}"
        sa: dict[str, Any] = {"email": email, "uniqueId": str(110000000000000000000 + i), "displayName": f"{word} {i}",
                              "description": desc, "disabled": r.random() < 0.03}
        if r.random() < 0.6:
            sa["lastAuthenticated"] = f"now-{r.randint(0, 300)}d"
        keys = []
        for _ in range(r.choices([0, 1, 2], weights=[4, 4, 2])[0]):
            age = r.randint(1, 900)
            key: dict[str, Any] = {"id": f"{r.getrandbits(160):040x}", "keyType": "USER_MANAGED",
                                   "keyOrigin": "GOOGLE_PROVIDED", "validAfterTime": f"now-{age}d",
                                   "validBeforeTime": ("9999-12-31T23:59:59Z" if r.random() < 0.7
                                                       else f"now{r.choice(['+', '-'])}{r.randint(1, 200)}d"),
                                   "disabled": r.random() < 0.05}
            if r.random() < 0.5:
                key["lastAuthenticated"] = f"now-{r.randint(0, min(age, 400))}d"
            keys.append(key)
        if r.random() < 0.3:
            keys.append({"id": f"{r.getrandbits(160):040x}", "keyType": "SYSTEM_MANAGED",
                         "validAfterTime": "now-3d", "validBeforeTime": "now+11d"})
        sa["keys"] = keys
        stats["user-managed keys"] += sum(1 for x in keys if x["keyType"] == "USER_MANAGED")
        p["serviceAccounts"].append(sa)
        sa_members.append(f"serviceAccount:{email}")
        if agentish:
            agent_sas[p["projectId"]].append(email)
    stats["service accounts"] = sum(len(p["serviceAccounts"]) for p in projects)

    def policy(entries: list[tuple[str, str, dict[str, str] | None]]) -> dict[str, Any]:
        """(role, member, condition) -> bindings, one per role and condition, as IAM stores them."""
        grouped: dict[tuple[str, str], dict[str, Any]] = {}
        for role, member, cond in entries:
            b = grouped.setdefault((role, json.dumps(cond, sort_keys=True)),
                                   {"role": role, "members": [], **({"condition": cond} if cond else {})})
            if member not in b["members"]:
                b["members"].append(member)
        stats["bindings"] += len(grouped)
        roles_used.update(role for role, _ in grouped)
        stats["role-member pairs"] += sum(len(b["members"]) for b in grouped.values())
        return {"bindings": list(grouped.values())}

    def cond(k: int) -> dict[str, str]:
        stats["conditional bindings"] += 1
        return {"title": f"temporary access {k}",
                "expression": f'request.time < timestamp("2027-{1 + k % 12:02d}-01T00:00:00Z")'}

    def some_member(p: dict[str, Any] | None = None) -> str:
        x = r.random()
        if x < 0.55:
            return (f"serviceAccount:{r.choice(p['serviceAccounts'])['email']}" if p and r.random() < 0.7
                    else r.choice(sa_members))
        if x < 0.75:
            return r.choice(users)
        if x < 0.85:
            return r.choice(groups)
        q = p or r.choice(projects)
        if x < 0.93:
            return f"serviceAccount:{ENGINE_AGENT.format(number=q['number'])}"
        if x < 0.97:
            return f"serviceAccount:service-{q['number']}@gcp-sa-aiplatform.iam.gserviceaccount.com"
        return "principal://agents.global.org-{}.system.id.goog/resources/aiplatform/projects/{}/locations/" \
               "us-central1/reasoningEngines/{}".format(ORG, q["number"], 7000 + projects.index(q) * 10 + 2)

    org = {"id": ORG, "displayName": "example.com", "policy": policy(
        [("roles/owner", "group:cloud-admins@example.com", None), ("roles/viewer", "group:auditors@example.com", None)]
        + [(r.choice(project_roles), some_member(), None) for _ in range(25)]
        + [(f"organizations/{ORG}/roles/agentRuntime", some_member(), cond(j) if j % 3 == 0 else None)
           for j in range(10)])}
    folders = [{"id": f, "displayName": f"folder-{f}", "parent": f"organizations/{ORG}",
                "policy": policy([(r.choice(project_roles), some_member(), cond(j) if j % 4 == 0 else None)
                                  for j in range(25)])} for f in FOLDERS]
    for k, p in enumerate(projects):
        pid, number = p["projectId"], p["number"]
        entries = [("roles/editor", f"serviceAccount:{number}-compute@developer.gserviceaccount.com", None),
                   ("roles/aiplatform.reasoningEngineServiceAgent",
                    f"serviceAccount:{ENGINE_AGENT.format(number=number)}", None)]
        entries += [(r.choice(project_roles), some_member(p), None) for _ in range(80)]
        entries += [(r.choice(project_roles), some_member(p), cond(j)) for j in range(50)]
        if k == 0:
            entries += [("projects/bench-p00/roles/keyMinter", some_member(p), None) for _ in range(5)]
        p["policy"] = policy(entries)
        # Each SA's own policy: who may impersonate it, act as it, mint keys for it.
        for sa in p["serviceAccounts"][1:]:
            if r.random() < 0.9:
                sa["policy"] = policy([(r.choice(SA_ROLES), some_member(p), None) for _ in range(r.randint(1, 5))])
        engines = []
        for e in range(3):
            spec: dict[str, Any] = {"agentFramework": "google-adk"}
            if e == 1 and agent_sas[pid]:
                spec["serviceAccount"] = r.choice(agent_sas[pid])
            if e == 2:
                spec["identityType"] = "AGENT_IDENTITY"
            engines.append({"id": str(7000 + k * 10 + e), "location": "us-central1",
                            "displayName": f"agent-{k}-{e}", "createTime": f"now-{r.randint(1, 90)}d", "spec": spec})
        p["reasoningEngines"] = engines
        p["apiKeys"] = [{"id": f"key-{k}-{a}", "uid": f"5b1f2e3d-0000-4000-8000-{k * 10 + a:012d}",
                         "displayName": f"gemini-{k}-{a}", "createTime": f"now-{r.randint(1, 400)}d",
                         "restrictions": ({"apiTargets": [{"service": "generativelanguage.googleapis.com"}]}
                                          if a == 0 else {}),
                         **({"serviceAccountEmail": r.choice(p["serviceAccounts"])["email"]} if a == 1 else {})}
                        for a in range(2)]
        if k < 2:
            p["workloadIdentityPools"] = [{"id": "github-pool", "displayName": "GitHub Actions", "providers": [
                {"id": "github", "displayName": "github",
                 "attributeMapping": {"google.subject": "assertion.sub",
                                      "attribute.repository": "assertion.repository"},
                 "oidc": {"issuerUri": "https://token.actions.githubusercontent.com"}}]}]
            target = p["serviceAccounts"][1]
            target.setdefault("policy", {"bindings": []})["bindings"].append(
                {"role": "roles/iam.workloadIdentityUser", "members": [
                    f"principalSet://iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/"
                    f"github-pool/attribute.repository/example/agents"]})
            stats["bindings"] += 1
            stats["role-member pairs"] += 1
            p["denyPolicies"] = [{"id": f"no-secrets-{k}", "displayName": "CI never reads secrets", "rules": [
                {"description": "pipelines must not read secret payloads", "denyRule": {
                    "deniedPrincipals": [f"principal://iam.googleapis.com/projects/-/serviceAccounts/"
                                         f"{s['email']}" for s in p["serviceAccounts"][1:4]],
                    "deniedPermissions": ["secretmanager.googleapis.com/versions.access"]}}]}]
            stats["deny policies"] += 1
        p["buckets"] = [{"name": f"{pid}-bucket-{b}", "labels": {"owner": f"team-{k}"}, "policy": policy(
            [(r.choice(data_roles[:]), some_member(p), cond(j) if j == 0 else None) for j in range(r.randint(3, 8))]
            + ([("roles/storage.objectViewer", "allUsers", None)] if b == 4 else []))} for b in range(5)]
        p["secrets"] = [{"id": f"secret-{s}", "createTime": f"now-{r.randint(1, 400)}d", "policy": policy(
            [("roles/secretmanager.secretAccessor", some_member(p), None) for _ in range(r.randint(2, 6))])}
            for s in range(5)]
        p["datasets"] = []
        for d in range(3):
            access = [{"role": r.choice(["READER", "WRITER", "OWNER"]),
                       "userByEmail": some_member(p).split(":", 1)[-1]} for _ in range(r.randint(5, 12))]
            access = [a for a in access if "@" in a["userByEmail"]] + [{"role": "OWNER", "specialGroup":
                                                                        "projectOwners"}]
            stats["dataset access entries"] += len(access)
            p["datasets"].append({"datasetId": f"ds_{d}", "labels": {"classification": "confidential"},
                                  "access": access})
        stats["buckets"] += 5
        stats["secrets"] += 5
        stats["datasets"] += 3
        stats["reasoning engines"] += len(engines)
        stats["API keys"] += 2
    stats["custom roles"] = len(CUSTOM_ROLES)
    stats["distinct roles bound"] = len(roles_used)
    return {"organization": org, "folders": folders, "projects": projects, "roles": CUSTOM_ROLES}, dict(stats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="service accounts (over 10 projects)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--page-size", type=int, default=100,
                        help="the fakes' page cap (theirs is 2, for tests) and the connector's page_size")
    args = parser.parse_args()

    from agentreach_testing import gcp_fake

    gcp_fake.PAGE_SIZE = args.page_size  # the module constant page() caps at; set in this process only
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    t = time.perf_counter()
    estate, sizes = generate(args.n, args.seed)
    gen_s = time.perf_counter() - t
    fakes = gcp_fake.start_fakes(estate, now)
    load = os.getloadavg()
    print(f"gcp bench: --n {args.n} --seed {args.seed}, page size {args.page_size} (fakes and connector), "
          f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"estate (generated in {gen_s:.1f} s): 1 organization, {len(FOLDERS)} folders, {N_PROJECTS} projects, "
          + ", ".join(f"{v:,} {k}" for k, v in sizes.items()) + "\n")

    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    try:
        with tempfile.TemporaryDirectory(prefix="agentreach-bench-gcp-") as tmp:
            db, cfg = str(Path(tmp) / "bench.db"), Path(tmp) / "cfg.yaml"
            section = fakes.config(projects=[], page_size=args.page_size, timeout=60)
            cfg.write_text(yaml.safe_dump({"connectors": {"gcp": section}}))
            measured = measure(db, str(cfg), "gcp", env, lambda: sum(fakes.estate.calls.values()))
    finally:
        fakes.stop()
    report(measured, "gcp", sizes, PER_OBJECT, "one call per page, per project or per folder / organization",
           width=70)


if __name__ == "__main__":
    main()
