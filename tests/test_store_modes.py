"""The store at rest (issue 20, item 9): a new SQLite store is its owner's only. The file is
0600 in a 0700 directory from before SQLite writes a byte, and so are the -wal and -shm files
beside it while a scan writes, whatever the umask; an existing file keeps the mode its owner
chose. Before, the salt, the fingerprints and the inventory were 0644 in a 0755 directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator

import pytest

from agentreach.model import Identity, node_id
from agentreach.store import Store

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o002, 0o000])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_a_new_store_and_its_neighbours_are_private(tmp_path: Path, umask: int) -> None:
    db = tmp_path / "state" / "agentreach" / "inv.db"
    store = Store(db)
    sid = store.begin_snapshot(config_digest="x", connectors={}, options={})
    store.add_nodes(sid, [Identity(id=node_id("aws", "iam_user", f"u{i}"), provider="aws", source="aws",
                                   type="aws_iam_user", name=f"u{i}") for i in range(50)])
    neighbours = [Path(f"{db}-wal"), Path(f"{db}-shm")]
    assert all(p.exists() for p in neighbours)  # WAL mode: written while the store is open
    assert mode(db.parent) == 0o700
    assert {p.name: mode(p) for p in [db, *neighbours]} == {p.name: 0o600 for p in [db, *neighbours]}
    assert mode(db.parent.parent) == 0o777 & ~umask  # the levels above: as the umask says
    store.finish_snapshot(sid, status="complete")
    store.close()


def test_the_default_location_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTREACH_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from agentreach.store import default_db_path

    db = default_db_path()
    assert str(db).startswith(str(tmp_path))
    Store().close()
    assert mode(db) == 0o600 and mode(db.parent) == 0o700


def test_an_existing_store_keeps_its_mode(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    Store(db).close()
    os.chmod(db, 0o640)  # its owner shares it with a group on purpose
    Store(db).close()
    assert mode(db) == 0o640
