"""Shared fixtures: one real moto server over HTTP for the session, a front door in front of
it for failures and the calls moto lacks, fake credentials that can never reach AWS."""

from __future__ import annotations

import datetime as dt
import logging
import os
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@pytest.fixture(scope="session", autouse=True)
def aws_env() -> Iterator[None]:
    """Never reach real AWS, whatever the machine's ~/.aws says (session-wide, so that
    module-scoped fixtures see it too)."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}.items():
            mp.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AGENTREACH_CONFIG"):
            mp.delenv(key, raising=False)
        yield


@pytest.fixture(autouse=True)
def isolated_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test ever writes to the user's real store."""
    monkeypatch.setenv("AGENTREACH_DB", str(tmp_path / "default.db"))


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def frontdoor_session(moto_url: str) -> Iterator[Any]:
    from agentreach_testing.aws_frontdoor import AwsFrontDoor

    door = AwsFrontDoor(moto_url)
    door.start()
    yield door
    door.stop()


def reset_moto(moto_url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()


@pytest.fixture
def frontdoor(frontdoor_session: Any) -> Iterator[Any]:
    """The front door with zeroed counters; rules a test adds after this are removed after it."""
    frontdoor_session.reset_counts()
    before = frontdoor_session.rules  # the objects, not their ids: a rule a test removes may free its id
    yield frontdoor_session
    for rule in frontdoor_session.rules:
        if not any(rule is kept for kept in before):
            frontdoor_session.remove_rule(rule)


@pytest.fixture(scope="module")
def seeded_estate(moto_url: str, frontdoor_session: Any) -> Any:
    """The demo estate, seeded afresh for each test module (moto's state is process-wide, so
    a module that resets it cannot spoil another's); its Bedrock API keys are served by the
    front door, as moto lacks that call."""
    from agentreach_testing.demo.seed import seed_estate

    reset_moto(moto_url)
    estate = seed_estate(moto_url, now=NOW)
    frontdoor_session.clear_rules()
    frontdoor_session.serve_service_specific_credentials(estate.service_specific_credentials)
    return estate


def aws_config(endpoint: str, estate: Any | None = None, **extra: Any) -> dict[str, Any]:
    """A full config that scans the seeded estate through ``endpoint``."""
    from agentreach.config import load_config

    aws: dict[str, Any] = {"endpoint_url": endpoint, "regions": ["us-east-1", "eu-west-1"], "max_attempts": 3}
    if estate is not None:
        aws["accounts"] = sorted(estate.accounts)
        aws["role_name"] = estate.readonly_role
    aws.update(extra)
    return load_config(overrides={"scan": {"connectors": ["aws"]}, "connectors": {"aws": aws}})


@pytest.fixture(scope="module")
def db(seeded_estate: Any, frontdoor_session: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store holding one complete scan of the seeded estate (both accounts and regions),
    made through the CLI as a user would."""
    from click.testing import CliRunner

    from agentreach.cli import main

    path = str(tmp_path_factory.mktemp("scanned") / "inv.db")
    result = CliRunner().invoke(main, ["--db", path, "-q", "scan", "--endpoint-url", frontdoor_session.url,
                                       "--regions", "us-east-1,eu-west-1", "--accounts", ",".join(seeded_estate.accounts)])
    assert result.exit_code == 0, result.output
    assert "snapshot 1: complete" in result.output
    return path


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The three-cloud demo (AWS, the leaked repository, Entra and Azure, GCP) run once, in its
    own process as a user runs it (moto's state is per process): its store and what it printed."""
    import os
    import subprocess
    import sys
    from types import SimpleNamespace

    db = tmp_path_factory.mktemp("demo") / "demo.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.run([sys.executable, "-m", "agentreach", "--db", str(db), "demo"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return SimpleNamespace(db=db, stdout=proc.stdout, stderr=proc.stderr, env=env)


@pytest.fixture(scope="session")
def demo_db(demo_run: Any) -> str:
    """The demo's store (see demo_run)."""
    return str(demo_run.db)


# -- the store on both engines -----------------------------------------------------------------
# PostgreSQL is a throwaway cluster that the tests start from the system's server binaries
# (tests/pg.py). Without binaries its tests are skipped, except in CI (CI=true), where a
# skipped engine would be an untested one: there they fail.

@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    from .pg import find_bindir, running_cluster

    bindir = find_bindir()
    if bindir is None:
        reason = "no PostgreSQL server binaries (apt-get install postgresql, or set PG_BINDIR)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the PostgreSQL tests (.ci/run installs the package)")
        pytest.skip(reason)
    with running_cluster(bindir) as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def store_engine(request: pytest.FixtureRequest) -> str:
    """The engine a store test runs on; ``@pytest.mark.parametrize("store_engine", [...])``
    narrows it for one test."""
    return request.param


@pytest.fixture
def store_at(store_engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[str], str]]:
    """``store_at(name)``: a store target on the engine under test, as ``--db`` takes it: a
    SQLite file in tmp_path, or a ``postgresql://`` URL to a fresh database of the session's
    cluster (dropped after the test). The same name gives the same target."""
    made: dict[str, str] = {}
    cluster = request.getfixturevalue("pg_cluster") if store_engine == "postgresql" else None

    def target(name: str = "inv") -> str:
        if name not in made:
            made[name] = (cluster.url(cluster.create_database(name.replace(".", "_"))) if cluster
                          else str(tmp_path / f"{name}.db"))
        return made[name]

    yield target
    if cluster:
        for url in made.values():
            cluster.drop_database(url.rsplit("/", 1)[1])
