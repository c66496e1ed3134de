"""``agentreach demo``: the real scan, end to end, against an embedded estate of three clouds.

A moto server runs in this process on a free loopback port, behind a small front door
that answers the one IAM call moto lacks (ListServiceSpecificCredentials, i.e. Bedrock
API keys). The estate is seeded from ``estate.yaml`` relative to today, then scanned by
the ordinary AWS connector through the ordinary scan runner into the demo's own store.
Nothing leaves the machine, and no real AWS credentials are read: the demo sets fake
ones for its own process only.

Azure and GCP are served the same way, by the local fakes in ``agentreach_testing``
(the Entra/Graph/ARM fake over TLS with a throwaway certificate, the IAM gRPC fake and the
REST fake), seeded from ``azure_estate.yaml`` and ``gcp_estate.yaml`` and scanned by the
ordinary connectors. ``--cloud`` picks which of the three run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import logging
import os
import shlex
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Iterator

import click
from rich.table import Table

from agentreach import render
from agentreach.app import Session
from agentreach.store import Store, is_url, store_url

from .leaked_repo import write_leaked_repo

DEMO_REGIONS = ["us-east-1", "eu-west-1"]
_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
}
# Variables that would point boto3 at a real account or a real endpoint.
_SCRUB = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
          "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")


class DemoUnavailable(RuntimeError):
    """The demo's extra (moto) is not installed."""


@contextmanager
def fake_aws_environment() -> Iterator[None]:
    """Fake credentials for this process only; whatever was set is put back afterwards."""
    saved = {k: os.environ.get(k) for k in (*_FAKE_ENV, *_SCRUB)}
    saved.update({k: v for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL")})
    try:
        for key in _SCRUB:
            os.environ.pop(key, None)
        for key in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
            os.environ.pop(key)
        os.environ.update(_FAKE_ENV)
        os.environ["AWS_CONFIG_FILE"] = os.devnull
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def demo_estate(now: dt.datetime) -> Iterator[tuple[str, Any]]:
    """Start moto and the front door, seed the estate; yield (endpoint, SeededEstate)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise DemoUnavailable("the demo needs moto: pip install 'agentreach[demo]'") from None
    from ..aws_frontdoor import AwsFrontDoor
    from .seed import seed_estate

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with fake_aws_environment():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        moto_url = f"http://{host}:{port}"
        door = AwsFrontDoor(moto_url)
        try:
            url = door.start()
            estate = seed_estate(moto_url, now=now)
            from .activity import seed_trail

            seed_trail(moto_url, estate.expected["main_account"], "us-east-1", now)  # what agents were seen doing
            door.serve_service_specific_credentials(estate.service_specific_credentials)
            yield url, estate
        finally:
            door.stop()
            server.stop()


CLOUDS = ("aws", "azure", "gcp")
# One command per cloud worth trying on the demo's store.
EXPLORE = (("aws", "explain support-agent-exec"), ("files", "show support-bot/.env:3"),
           ("azure", "who-can-reach kv-agents-prod"), ("gcp", "path ci-deployer customer_data"))
# The module each cloud's connector needs: a cloud whose SDK is not installed is skipped
# with a note naming the extra, so `pip install agentreach[demo]` still gets the AWS demo.
_SDK = {"aws": ("moto", "demo"), "azure": ("azure.identity", "azure"), "gcp": ("google.cloud.iam_admin_v1", "gcp")}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@contextmanager
def demo_clouds(now: dt.datetime, clouds: tuple[str, ...], notes: list[str]) -> Iterator[dict[str, Any]]:
    """Start each cloud's local stand-in and yield the ``connectors`` config that points the
    ordinary connectors at them."""
    with ExitStack() as stack:
        section: dict[str, Any] = {}
        for cloud in clouds:
            module, extra = _SDK[cloud]
            if not _installed(module):
                notes.append(f"{cloud} skipped: pip install 'agentreach[{extra}]'")
                continue
            if cloud == "aws":
                endpoint, estate = stack.enter_context(demo_estate(now))
                section["aws"] = {
                    "endpoint_url": endpoint, "regions": DEMO_REGIONS, "profile": None,
                    "accounts": [{"id": a, "alias": alias} for a, alias in estate.accounts.items()],
                    "role_name": estate.readonly_role, "max_attempts": 3,
                    # CloudTrail from the trail's bucket (no LookupEvents or last-accessed stand-in)
                    "activity": True, "activity_since": "90d", "activity_sources": ["cloudtrail"],
                }
                # A leaked agent repository holding one of these live keys, for the files connector.
                repo, _ = write_leaked_repo(Path(stack.enter_context(tempfile.TemporaryDirectory())),
                                            estate.expected)
                section["files"] = {"paths": [str(repo)], "all_files": True}
            elif cloud == "azure":
                from .azure import demo_tenant

                section["azure"] = stack.enter_context(demo_tenant(now))
            else:
                from .gcp import demo_project

                section["gcp"] = stack.enter_context(demo_project(now))
        if not section:
            raise DemoUnavailable("; ".join(notes) or "no cloud chosen")
        yield section


def _demo_reviewed(section: dict[str, Any], directory: Path, now: dt.datetime) -> Path:
    """The demo's reviewed file (profiles for the AWS main account's agents; none without AWS)."""
    from agentreach.review import Reviewed, save_reviewed

    from .profiles import write_demo_reviewed

    accounts = (section.get("aws") or {}).get("accounts") or []
    main = next((a["id"] for a in accounts if a.get("alias") == "platform"), None)
    if main is None:
        path = directory / "reviewed.yaml"
        save_reviewed(path, Reviewed())
        return path
    return write_demo_reviewed(directory, main, now.date())


def demo_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("agentreach", appauthor=False)) / "demo.db"


def run_demo(session: Session, *, fmt: str, output: str | None, clouds: tuple[str, ...] = CLOUDS) -> int:
    """The demo, presented; returns its exit code (the scan's)."""
    from agentreach import app
    from agentreach.present import console_for, print_scan, progress_reporter, write

    quiet = session.quiet
    # A database URL is used as given (never a file to delete; the demo adds a snapshot to it)
    # and shown without its password; the HTML report then goes to the default demo folder.
    url = session.db if session.db and is_url(session.db) else None
    db = url or Path(session.db or demo_db_path())
    shown = str(store_url(url)) if url else str(db)
    if not url:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)  # the demo always starts from an empty store
    session = dataclasses.replace(session, db=str(db))
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if not quiet:
        click.echo(f"agentreach demo: serving {', '.join(clouds)} from local stand-ins (moto for AWS, shipped "
                   "fakes for Entra/ARM and GCP; no network, no cloud account)…", err=True)
    notes: list[str] = []
    with demo_clouds(now, clouds, notes) as section, tempfile.TemporaryDirectory() as tmp:
        # The approved access profiles of four AWS agents: the demo's own reviewed file, never
        # the one in the current directory.
        overrides = {"scan": {"connectors": list(section)}, "connectors": section,
                     "review": {"file": str(_demo_reviewed(section, Path(tmp), now))}}
        config = session.config(overrides)
        plan = app.plan_scan(config, list(section))
        with progress_reporter(not quiet and sys.stderr.isatty()) as progress:
            result = app.scan(session.store(config, create=True), config, plan, progress=progress)
    for note in notes:
        click.echo(f"agentreach demo: {note}", err=True)
    store = Store(db)
    info = result.snapshot
    if fmt == "json":
        nodes = app.inventory(store, info, kinds=None)
        write(render.to_json({**result.summary(), "db": shown, "objects": nodes}), output, quiet=quiet)
        return result.exit_code
    with console_for(output) as console:
        print_scan(console, result, store)
        shown_at = info.finished_at or now
        rows = app.inventory(store, info, kinds=["identity", "credential"])
        console.print(render.inventory_table(rows, shown_at, f"identities and credentials ({len(rows)})"))
        console.print(_workloads_table(store, info.id))
        _print_agents(console, store, info.id)
        _print_reach(console, store, info.id)
        report_path = _print_findings(console, store, info, config, demo_db_path() if url else Path(db))
        exe = _invocation()
        console.print(f"\nHTML report: {report_path}")
        console.print(f"\nstore: {shown}\nexplore it, for example:\n"
                      f"  {exe} --db {shown} inventory --agents\n"
                      + "".join(f"  {exe} --db {shown} {cmd}\n" for cloud, cmd in EXPLORE if cloud in section)
                      + f"  {exe} --db {shown} findings --severity critical")
    return result.exit_code


def _print_agents(console: Any, store: Store, snapshot_id: int) -> None:
    """How many agent identities and credentials the classifier found, one line of evidence each."""
    verdicts = store.annotations(snapshot_id, "agent")
    nodes = {n.node.id: n.node for n in store.nodes(snapshot_id, ids=list(verdicts))}
    agents = sorted(((nid, v) for nid, v in verdicts.items() if v["verdict"] == "agent"),
                    key=lambda kv: (nodes[kv[0]].kind.value != "identity", -kv[1]["score"], nodes[kv[0]].name))
    idents = sum(1 for nid, _ in agents if nodes[nid].kind.value == "identity")
    possible = sum(1 for v in verdicts.values() if v["verdict"] == "possible")
    console.print(f"\nAI agents: {idents} identities and {len(agents) - idents} credentials "
                  f"(and {possible} possible; 'inventory --agents' lists them, 'explain NAME' says why)")
    for nid, v in agents:
        best = v["evidence"][0]
        console.print(f"  {nodes[nid].kind.value:<10} {nodes[nid].name:<32} {v['score']:.2f}  "
                      f"{best['signal']}: {best['why']}")


AGENT_WORKLOADS = ("aws_bedrock_agent", "aws_agentcore_runtime", "aws_agentcore_gateway", "gcp_reasoning_engine")
# Data a reader recognises as a crown jewel, most telling first.
DATA_TYPES = ["aws_s3_bucket", "gcp_bigquery_dataset", "aws_dynamodb_table", "azure_key_vault", "gcp_secret",
              "aws_secretsmanager_secret", "azure_cognitive_account", "azure_storage_account", "gcp_bucket",
              "aws_kms_key", "azure_directory"]


def _print_reach(console: Any, store: Store, snapshot_id: int) -> None:
    """One reach path per cloud that a responder would care about: an agent's way to a
    crown jewel, with the grant behind the last hop."""
    from agentreach.graph import load_graph, reach
    from agentreach.order import access_rank
    from agentreach.render import hops_line

    graph = load_graph(store, snapshot_id)
    verdicts = store.annotations(snapshot_id, "agent")
    # Start from the agents themselves (a Bedrock agent, an AgentCore runtime, a reasoning
    # engine) and, where a cloud has none of those, from its agent identities.
    by_provider: dict[str, list[int]] = {}
    for n in range(len(graph)):
        attrs = graph.attrs[n]
        is_agent = (verdicts.get(graph.ids[n]) or {}).get("verdict") == "agent" and graph.kinds[n] == "identity"
        if attrs.get("type") in AGENT_WORKLOADS or is_agent:
            by_provider.setdefault(attrs.get("provider") or "", []).append(n)
    for provider in sorted(by_provider):
        best = None
        for start in by_provider[provider]:
            for hit in reach(graph, start, depth=5):
                if hit.get("sensitivity") == "high" and hit["type"] in DATA_TYPES:
                    rank = (graph.attrs[start].get("type") in AGENT_WORKLOADS, -DATA_TYPES.index(hit["type"]),
                            access_rank(hit["access"]), -len(hit["path"]))
                    if best is None or rank > best[0]:
                        best = (rank, hit)
        if best is None:
            continue
        hit = best[1]
        console.print(f"\nReach ({provider}): the {hit['path'][0]['from_name']} agent can {hit['access']} the "
                      f"sensitive {hit['type']} {hit['name']}:")
        console.print(f"  {hops_line(hit['path'])}")
        grant = hit["path"][-1].get("grant")
        if grant:
            console.print(f"  granted by: {'; '.join(grant) if isinstance(grant, list) else grant}")
        console.print(f"  (reach {shlex.quote(hit['path'][0]['from_name'])} and who-can-reach "
                      f"{shlex.quote(hit['name'])} show every path)")


def _print_findings(console: Any, store: Store, info: Any, config: Any, db: Path) -> Path:
    """The findings summary, and the HTML report written next to the demo's store."""
    from agentreach import app
    from agentreach.report import render as render_report

    body = app.findings(store, info, config)
    counts = body["summary"]["counts"]
    console.print("\nFindings: " + ", ".join(f"{n} {sev}" for sev, n in counts.items() if n))
    # The most serious thing agentreach reports first: a leaked secret that is a live credential.
    top = sorted((f for f in body["findings"] if f["severity"] in ("critical", "high")),
                 key=lambda f: (f["rule"] != "AR-SECRET-LEAKED-LIVE", f["severity"] != "critical"))
    for f in top[:10]:
        why = (f.get("evidence") or [f["title"]])[0]
        console.print(f"  {f['severity']:<9}{f['rule']:<26} {f.get('subject_name') or f['subject']}: "
                      f"{why[:110] + '…' if len(why) > 110 else why}")
    if len(top) > 10:
        console.print(f"  … and {len(top) - 10} more critical and high ('findings --severity critical' lists them)")
    for r in body["rules"]:
        if r["status"] == "skipped":
            console.print(f"  (skipped {r['rule']}: {r['note']})")
    _print_profiles(console, body["findings"])
    path = db.with_name("demo-report.html")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report("html", body), encoding="utf-8")
    return path


def _print_profiles(console: Any, findings: list[dict[str, Any]]) -> None:
    """Approved profiles against grants: the drift with the smallest right-sized policy (the
    one a reader can take in), the other drifts in one line each, and lapsed reviews."""
    import json

    from agentreach.profiles import readable

    drifts = sorted((f for f in findings if f["rule"] == "AR-PROFILE-DRIFT"
                     and (f.get("right_sized") or {}).get("grants")),
                    key=lambda f: (len(json.dumps(f["right_sized"])), f["subject_name"]))
    if drifts:
        f = drifts[0]
        console.print(f"\nDrift: {f['subject_name']} is granted beyond its approved access profile "
                      f"({f['severity']}, AR-PROFILE-DRIFT):")
        for line in f["evidence"][:3]:
            console.print(f"  {line}", markup=False)
        for grant in f["right_sized"]["grants"]:
            doc = grant.get("policy") or grant.get("role")
            console.print(f"  right-sized policy for {grant['identity_name']} (approved profile ∩ granted):")
            console.print("\n".join("    " + ln for ln in json.dumps(readable(doc), indent=2).splitlines()),
                          markup=False)
        for other in (o for o in findings if o["rule"] == "AR-PROFILE-DRIFT" and o is not f):
            console.print(f"  also drifting: {other['subject_name']}: {other['evidence'][0]}", markup=False)
    for f in findings:
        if f["rule"] == "AR-PROFILE-REVIEW-OVERDUE":
            console.print(f"  profile review overdue: {f['subject_name']}: {f['evidence'][0]}", markup=False)
    _print_activity(console, findings)


def _print_activity(console: Any, findings: list[dict[str, Any]]) -> None:
    """What CloudTrail showed against profiles and grants: use beyond the approved profile,
    and grants never used with the policy of what was done."""
    import json

    from agentreach.profiles import readable

    for f in (f for f in findings if f["rule"] == "AR-PROFILE-RUNTIME-DRIFT"):
        console.print(f"\nSeen beyond its profile: {f['subject_name']} ({f['severity']}, AR-PROFILE-RUNTIME-DRIFT):")
        for line in f["evidence"][:2]:
            console.print(f"  {line}", markup=False)
    for f in (f for f in findings if f["rule"] == "AR-AGENT-UNUSED-GRANTS"):
        console.print(f"\nGranted, never used: {f['subject_name']} ({f['severity']}, AR-AGENT-UNUSED-GRANTS):")
        console.print(f"  {f['evidence'][0]}", markup=False)
        for grant in (f.get("right_sized") or {}).get("grants") or ():
            doc = grant.get("policy") or grant.get("role")
            console.print(f"  policy generated from what it did ({f['right_sized']['generated_from']}):")
            console.print("\n".join("    " + ln for ln in json.dumps(readable(doc), indent=2).splitlines()),
                          markup=False)


def _invocation() -> str:
    """How to call agentreach again from this shell: the script as it was run (often
    .venv/bin/agentreach, not on PATH), else ``python -m agentreach``."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "agentreach":
        return os.path.relpath(argv0) if not argv0.is_absolute() or Path.cwd() in argv0.parents else str(argv0)
    return f"{Path(sys.executable).name} -m agentreach"


def _workloads_table(store: Store, snapshot_id: int) -> Table:
    """What runs as what: the agents and other workloads with the role each runs as."""
    workloads = list(store.nodes(snapshot_id, kinds=["workload"]))
    runs_as = {e["src"]: e["dst"] for e in store.edges(snapshot_id, kinds=["runs_as"])}
    names = {n.node.id: n.node.name for n in store.nodes(snapshot_id, kinds=["identity"])}
    table = Table(title=f"workloads and the identity each runs as ({len(workloads)})", header_style="bold")
    for col in ("type", "name", "account", "region", "runs as", "env var names"):
        table.add_column(col, overflow="fold")
    for w in workloads:
        dst = runs_as.get(w.node.id)
        table.add_row(w.node.type, w.node.name, w.node.account or "-", w.node.region or "-",
                      names.get(dst, dst or "-") if dst else "-",
                      ", ".join(getattr(w.node, "env_var_names", ())) or "-")
    return table
