"""The files connector under hostile trees, through the real CLI
(``agentreach --db X -q scan --only files --path DIR``).

Each of the 21 trees holds one hostile object beside a normal ``app/.env`` with a real-format
key. Every row asserts that the normal secret is found, that the hostile object is found, a
coverage gap naming it, or skipped by type with its count in the scan summary, and the exit
code (0 clean, 3 completed with gaps; never 4). Keys are generated at runtime from a fixed
seed, so nothing real-looking is committed.
"""

from __future__ import annotations

import base64
import codecs
import json
import logging
import os
import random
import re
import shutil
import socket
import stat
import string
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from agentreach_connectors.files import walk as files_walk
from click.testing import CliRunner

from agentreach.cli import main

R = random.Random(19)
AN = string.ascii_letters + string.digits
NORMAL = ("app/.env", 2)


def groq() -> str:
    return "gsk_" + "".join(R.choice(AN) for _ in range(52))


def github() -> str:
    return "ghp_" + "".join(R.choice(AN) for _ in range(36))


def write_normal(root: Path) -> None:
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "app" / ".env").write_text(f"LOG_LEVEL=info\nGROQ_API_KEY={groq()}\n")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                   check=True, capture_output=True)


@dataclass
class Scan:
    exit_code: int
    gaps: list[dict]
    found: set[tuple[str, int]]
    summary: str
    output: str = ""


@dataclass
class Expect:
    """What the hostile object must become (at least one of these is set)."""

    found: list[tuple[str, int]] = field(default_factory=list)
    gaps: list[tuple[str, str, str]] = field(default_factory=list)  # (operation or "*", error_code, text in message)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count in the summary
    exit_code: int = 0
    config: dict = field(default_factory=dict)


def _config_file(where: Path, options: dict) -> list[str]:
    if not options:
        return []
    path = where / "agentreach.yaml"
    path.write_text(json.dumps({"connectors": {"files": options}}))  # JSON is YAML
    return ["--config", str(path)]


def run_cli(tree: Path, work: Path, options: dict | None = None, caplog: pytest.LogCaptureFixture | None = None) -> Scan:
    """scan --only files --path TREE, then the inventory of what it found, in this process."""
    db = work / "scan.db"
    runner = CliRunner()
    if caplog is not None:
        caplog.set_level(logging.INFO, logger="agentreach")
        caplog.clear()
    result = runner.invoke(main, ["--db", str(db), "-q", *_config_file(work, options or {}), "scan", "--only",
                                  "files", "--path", str(tree), "--format", "json"], catch_exceptions=False)
    assert result.exit_code in (0, 3), result.output
    body = json.loads(result.stdout)
    summary = next((r.getMessage() for r in (caplog.records if caplog else []) if r.getMessage().startswith(
        "files: scanned")), "")
    inv = runner.invoke(main, ["--db", str(db), "inventory", "--kind", "all", "--provider", "files", "--format",
                               "json"], catch_exceptions=False)
    objects = json.loads(inv.stdout)["objects"]
    found = {(o["path"], o["line"]) for o in objects if o["kind"] == "location"}
    return Scan(result.exit_code, body["coverage_gaps"], found, summary, result.stdout)


def run_unprivileged(tree: Path, work: Path) -> Scan:
    """The same scan in a child process that cannot read what the tree denies it: as root
    (which reads everything), the child runs as nobody with no capabilities."""
    cmd = [sys.executable, "-m", "agentreach", "--db", str(work / "scan.db"), "-q", "scan", "--only", "files",
           "--path", str(tree), "--format", "json"]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot drop the right to read everything")
        drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        probe = subprocess.run([*drop, sys.executable, "-c", "import agentreach"], capture_output=True, text=True,
                               timeout=60)
        if probe.returncode != 0:  # a checkout in a private directory (mktemp -d): nobody cannot run it at all
            pytest.skip(f"the unprivileged user cannot run this checkout: {probe.stderr.strip()[-200:]}")
        for p in (work, *work.rglob("*")):
            if not p.is_symlink():
                os.chown(p, 65534, 65534)
        cmd = [*drop, *cmd]
    env = {**os.environ, "HOME": str(work)}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode in (0, 3), proc.stderr[-2000:]
    body = json.loads(proc.stdout)
    inv = subprocess.run([*cmd[:cmd.index("-q")], "inventory", "--kind", "all", "--provider", "files", "--format",
                          "json"], capture_output=True, text=True, env=env, check=True)
    found = {(o["path"], o["line"]) for o in json.loads(inv.stdout)["objects"] if o["kind"] == "location"}
    return Scan(proc.returncode, body["coverage_gaps"], found, "", proc.stdout)


def check(scan: Scan, expect: Expect, tree: Path) -> None:
    assert NORMAL in scan.found, f"the normal secret was lost: {sorted(scan.found)}"
    for where in expect.found:
        assert where in scan.found, f"{where} not found: {sorted(scan.found)}"
    for operation, code, text in expect.gaps:
        assert any(operation in ("*", g["operation"]) and g["error_code"] == code and text in g["message"]
                   for g in scan.gaps), f"no {operation}/{code} gap naming {text!r}: {scan.gaps}"
        assert all(str(tree) not in g["message"] for g in scan.gaps), "gaps name paths relative to the root"
    for reason, n in expect.skipped.items():
        assert re.search(rf"\b{n} {re.escape(reason)}\b", scan.summary), (reason, scan.summary)
    if not expect.gaps:
        assert scan.gaps == [], scan.gaps
    assert scan.exit_code == expect.exit_code, (scan.exit_code, scan.gaps)
    assert expect.found or expect.gaps or expect.skipped, "a row must say what the hostile object becomes"


# ---------------------------------------------------------------------------- the trees

def deep_json(root: Path) -> Expect:
    token = github()
    deep = "[" * 100_000 + "]" * 100_000
    (root / ".cursor").mkdir()
    (root / ".cursor" / "mcp.json").write_text(
        '{"mcpServers": {"gh": {"command": "npx", "env": {"GITHUB_TOKEN": "' + token + '"}}},\n'
        ' "generated": ' + deep + "}\n")
    return Expect(found=[(".cursor/mcp.json", 1)], gaps=[("parse", "TooDeep", ".cursor/mcp.json")], exit_code=3)


def deep_service_account(root: Path) -> Expect:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    (root / "keys").mkdir()
    (root / "keys" / "sa.json").write_text(
        '{"type": "service_account", "project_id": "p1",\n "private_key": ' + json.dumps(pem) + ',\n'
        ' "client_email": "agent@p1.iam.gserviceaccount.com",\n "labels": ' + "{\"a\": " * 50_000 + "1"
        + "}" * 50_000 + "}\n")
    return Expect(found=[("keys/sa.json", 2)], gaps=[("parse", "TooDeep", "keys/sa.json")], exit_code=3)


def symlink_loop(root: Path) -> Expect:
    (root / "loop").mkdir()
    os.symlink("b", root / "loop" / "a")
    os.symlink("a", root / "loop" / "b")
    os.symlink(".", root / "loop" / "self")
    os.symlink("..", root / "loop" / "up")
    return Expect(skipped={"symlink": 4})


def symlink_loop_followed(root: Path) -> Expect:
    symlink_loop(root)
    os.symlink("/etc", root / "loop" / "outside")
    return Expect(skipped={"symlink loop": 2, "directory loop": 2, "symlink outside the root": 1},
                  config={"follow_symlinks": True})


def symlink_loop_git(root: Path) -> Expect:
    symlink_loop(root)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "links")
    return Expect(skipped={"symlink": 4})


def utf16_env(root: Path) -> Expect:
    (root / "win").mkdir()
    text = f"# written by a Windows tool\r\nLOG=1\r\nGROQ_API_KEY={groq()}\r\n"
    (root / "win" / ".env").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    return Expect(found=[("win/.env", 3)])


def one_line(size: int, key_at: float) -> bytes:
    block = ('function f(a,b){return a.map(function(x){return x*b+"' + "".join(R.choice(AN) for _ in range(40))
             + '"})};var cfg={retries:3,url:"https://api.example.com/v1"};').encode()
    n = size // len(block)
    at = int(n * key_at)
    key = f'var k="{groq()}";'.encode()
    return block * at + key + block * (n - at)


def big_single_line(root: Path) -> Expect:
    (root / "logs").mkdir()
    (root / "logs" / "dump.log").write_bytes(one_line(200_000_000, 0.5))
    return Expect(found=[("logs/dump.log", 1)])


def unreadable_dir(root: Path) -> Expect:
    (root / "locked").mkdir()
    (root / "locked" / ".env").write_text(f"GROQ_API_KEY={groq()}\n")
    os.chmod(root / "locked", 0)
    return Expect(gaps=[("walk", "PermissionError", "locked/")], exit_code=3)


def unreadable_dir_git(root: Path) -> Expect:
    unreadable_dir(root)
    os.chmod(root / "locked", 0o755)
    (root / "secret.env").write_text(f"GROQ_API_KEY={groq()}\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "tree")
    os.chmod(root / "locked", 0)
    os.chmod(root / "secret.env", 0)
    return Expect(gaps=[("walk", "PermissionError", "locked/"), ("read", "PermissionError", "secret.env")],
                  exit_code=3)


def minified_js(root: Path) -> Expect:
    (root / "dist").mkdir()
    (root / "dist" / "app.min.js").write_bytes(one_line(10_000_000, 0.37))
    return Expect(found=[("dist/app.min.js", 1)])


def nul_file(root: Path) -> Expect:
    (root / "data").mkdir()
    (root / "data" / "zeros.env").write_bytes(b"\0" * 1_000_000)
    return Expect(skipped={"binary": 1})


def sparse_file(root: Path) -> Expect:
    (root / "var").mkdir()
    path = root / "var" / "prealloc.log"
    head = "".join(f"2026-01-01T00:00:{i % 60:02d} started worker {i}\n" for i in range(400))
    with path.open("wb") as fh:
        fh.write(head.encode())
        fh.seek(4 << 30)  # a 4 GB hole
        fh.write(f"\nGROQ_API_KEY={groq()}\n".encode())
    return Expect(found=[("var/prealloc.log", 402)])


def odd_names(root: Path) -> Expect:
    (root / "odd").mkdir()
    (root / "odd" / "new\nline.env").write_text(f"GROQ_API_KEY={groq()}\n")
    os.mkdir(os.path.join(os.fsencode(root / "odd"), b"bad\xffdir"))
    with open(os.path.join(os.fsencode(root / "odd"), b"bad\xffdir", b"k\xfe.env"), "w") as fh:
        fh.write(f"GROQ_API_KEY={groq()}\n")
    return Expect(found=[("odd/new\\nline.env", 1), ("odd/bad\\xffdir/k\\xfe.env", 1)])


def crlf_env(root: Path) -> Expect:
    (root / "crlf").mkdir()
    (root / "crlf" / ".env").write_bytes(f"A=1\r\nB=2\r\nGROQ_API_KEY={groq()}\r\n".encode())
    return Expect(found=[("crlf/.env", 3)])


def latin1_file(root: Path) -> Expect:
    (root / "legacy").mkdir()
    text = (b"# caf\xe9 cr\xe8me \x85 (NEL in Latin-1)\n"  # 0x85 and the form feed split lines for splitlines()
            b"\x0c\n"
            b"nom = 'Ren\xe9e'\x0bvertical tab\n"
            b"x = 1\n"
            b"y = '\xa0'\n" + f"GROQ_API_KEY = '{groq()}'\n".encode())
    (root / "legacy" / "settings.py").write_bytes(text)
    return Expect(found=[("legacy/settings.py", 6)])


def notebook_base64(root: Path) -> Expect:
    image = base64.b64encode(R.randbytes(4_500_000)).decode()
    nb = {"cells": [
        {"cell_type": "code", "metadata": {}, "source": ["plot()\n"],
         "outputs": [{"output_type": "display_data", "data": {"image/png": image}}]},
        {"cell_type": "code", "metadata": {}, "source": ["import os\n", f"os.environ['GROQ_API_KEY'] = '{groq()}'\n"],
         "outputs": []}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(nb, indent=1)
    line = text[:text.index("gsk_")].count("\n") + 1
    (root / "nb").mkdir()
    (root / "nb" / "analysis.ipynb").write_text(text)
    return Expect(found=[("nb/analysis.ipynb", line)])


def billion_laughs(root: Path) -> Expect:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append(f"GROQ_API_KEY: {groq()}")
    (root / "cfg").mkdir()
    (root / "cfg" / "laughs.yaml").write_text("\n".join(lines) + "\n")
    return Expect(found=[("cfg/laughs.yaml", 10)])


def broken_git(root: Path) -> Expect:
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("not a ref\n")
    (root / ".git" / "config").write_text("[core\n")
    return Expect(gaps=[("git", "BrokenRepository", ".git")], exit_code=3)


def deep_dirs(root: Path) -> Expect:
    depth = 1200  # past the recursion limit of a recursive walk, within PATH_MAX
    deep = str(root)
    for _ in range(depth):  # os.makedirs recurses as deep as the path
        deep = os.path.join(deep, "d")
        os.mkdir(deep)
    with open(os.path.join(deep, ".env"), "w") as fh:
        fh.write(f"GROQ_API_KEY={groq()}\n")
    return Expect(found=[("/".join(["d"] * depth + [".env"]), 1)])


def fifo(root: Path) -> Expect:
    (root / "run").mkdir()
    os.mkfifo(root / "run" / "agent.env")  # opening it to read would wait for a writer forever
    return Expect(skipped={"fifo": 1})


def unix_socket(root: Path) -> Expect:
    (root / "run").mkdir()
    here = os.getcwd()
    os.chdir(root / "run")  # a socket path is limited to ~108 bytes: bind by a relative name
    try:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind("agent.sock")
        sock.close()
    finally:
        os.chdir(here)
    assert stat.S_ISSOCK(os.lstat(root / "run" / "agent.sock").st_mode)
    return Expect(skipped={"socket": 1})


TREES: dict[str, Callable[[Path], Expect]] = {
    "deep JSON in an MCP config": deep_json,
    "deep JSON naming service_account": deep_service_account,
    "symlink loop": symlink_loop,
    "symlink loop, followed": symlink_loop_followed,
    "symlink loop in a git work tree": symlink_loop_git,
    "UTF-16 .env with a BOM": utf16_env,
    "200 MB single-line file": big_single_line,
    "10 MB one-line minified JS": minified_js,
    "a file of NULs": nul_file,
    "a sparse 4 GB file": sparse_file,
    "names with a newline and invalid UTF-8": odd_names,
    "CRLF .env": crlf_env,
    "Latin-1 with NEL, form feed and vertical tab": latin1_file,
    "notebook with a 6 MB base64 output": notebook_base64,
    "YAML billion laughs": billion_laughs,
    "broken git repository": broken_git,
    "1,200 nested directories": deep_dirs,
    "a FIFO": fifo,
    "a socket": unix_socket,
}


def remove_tree(top: Path) -> None:
    """shutil.rmtree without recursion (it recurses once per directory level)."""
    stack = [str(top)]
    while stack:
        path = stack[-1]
        subdirs = []
        with os.scandir(path) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    subdirs.append(e.path)
                else:
                    os.unlink(e.path)
        if subdirs:
            stack.extend(subdirs)
        else:
            os.rmdir(stack.pop())


@pytest.mark.parametrize("name", list(TREES))
def test_hostile_tree(name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    write_normal(tree)
    try:
        expect = TREES[name](tree)
        check(run_cli(tree, tmp_path, expect.config, caplog), expect, tree)
    finally:
        remove_tree(tree)  # 200 MB files and trees deeper than pytest's own cleanup can recurse


@pytest.fixture
def shared_tmp() -> Path:
    """A directory another user can enter (pytest's own tmp is private to its user)."""
    path = Path(tempfile.mkdtemp(prefix="agentreach-hostile-"))
    os.chmod(path, 0o755)
    yield path
    for p in [path, *path.rglob("*")]:
        if not p.is_symlink():
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
    shutil.rmtree(path)


@pytest.mark.parametrize("make", [unreadable_dir, unreadable_dir_git], ids=["plain", "git work tree"])
def test_unreadable_directory(make: Callable[[Path], Expect], shared_tmp: Path) -> None:
    tree = shared_tmp / "tree"
    tree.mkdir()
    write_normal(tree)
    expect = make(tree)
    check(run_unprivileged(tree, shared_tmp), expect, tree)


def test_file_that_disappears_between_listing_and_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    write_normal(tree)
    (tree / "tmp").mkdir()
    (tree / "tmp" / "build.env").write_text(f"GROQ_API_KEY={groq()}\n")
    listed = files_walk.Walk.__iter__

    def then_removed(self: files_walk.Walk):  # the real listing, and the file gone right after it
        entries = list(listed(self))
        (tree / "tmp" / "build.env").unlink()
        return iter(entries)

    monkeypatch.setattr(files_walk.Walk, "__iter__", then_removed)
    check(run_cli(tree, tmp_path, caplog=caplog), Expect(gaps=[("read", "FileNotFoundError", "tmp/build.env")],
                                                          exit_code=3), tree)


def test_the_21_shapes_are_all_here() -> None:
    shapes = set(TREES) - {"symlink loop, followed"} | {"unreadable directory", "unreadable directory in git",
                                                        "a file that disappears"}
    assert len(shapes) == 21, sorted(shapes)


# ---------------------------------------------------------------------------- bounds and budgets

def test_time_budget_stops_a_file_and_the_scan_goes_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    write_normal(tree)
    (tree / "huge.log").write_bytes(one_line(120_000_000, 0.9))
    scan = run_cli(tree, tmp_path, {"file_timeout": 0.2}, caplog)
    check(scan, Expect(gaps=[("*", "Timeout", "huge.log")], exit_code=3), tree)  # in whichever stage it was
    assert len(scan.gaps) == 1


def test_guard_interrupts_catastrophic_backtracking() -> None:
    from agentreach_connectors.files.guard import FileTimeout, Guard

    with pytest.raises(FileTimeout):
        with Guard(0.2).running():
            re.match(r"(a+)+$", "a" * 64 + "b")  # 2^64 steps without the budget


def test_max_file_bytes_lowered_makes_large_files_gaps(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    write_normal(tree)
    (tree / "big.txt").write_bytes(one_line(300_000, 0.5))
    check(run_cli(tree, tmp_path, {"max_file_bytes": 100_000}, caplog),
          Expect(gaps=[("read", "TooLarge", "big.txt")], exit_code=3), tree)


def test_zip_bomb_within_tight_bounds(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    write_normal(tree)
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("deeper.env", f"GROQ_API_KEY={groq()}\n")
    with zipfile.ZipFile(tree / "release.jar", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config/app.env", f"LOG=1\nGROQ_API_KEY={groq()}\n")
        zf.write(inner, "lib/inner.zip")
        zf.writestr("bomb.txt", "A" * 50_000_000)  # 50 MB that deflates to ~50 KB
        zf.writestr("after.env", f"GROQ_API_KEY={groq()}\n")
    with zipfile.ZipFile(tree / "many.zip", "w") as zf:
        for i in range(30):
            zf.writestr(f"f{i}.txt", "x\n")
    scan = run_cli(tree, tmp_path, {"archives": True, "archive_max_depth": 1, "archive_max_members": 20,
                                    "archive_max_bytes": 1_000_000}, caplog)
    check(scan, Expect(found=[("release.jar!/config/app.env", 2)],
                       gaps=[("archive", "TooDeep", "release.jar!/lib/inner.zip"),
                             ("archive", "ExpandedTooLarge", "release.jar"),
                             ("archive", "TooManyMembers", "many.zip")], exit_code=3), tree)
    assert ("release.jar!/after.env", 1) not in scan.found  # past the bound: not read, and the gap says so


def test_archives_are_off_by_default_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    write_normal(tree)
    with zipfile.ZipFile(tree / "bundle.zip", "w") as zf:
        zf.writestr("x.env", f"GROQ_API_KEY={groq()}\n")
    check(run_cli(tree, tmp_path, caplog=caplog), Expect(skipped={"binary extension": 1}), tree)


def test_archives_nested_within_bounds_are_read(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import io
    import tarfile

    tree = tmp_path / "tree"
    tree.mkdir()
    write_normal(tree)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("conf/.env", f"A=1\nGROQ_API_KEY={groq()}\n")
    data = f"GROQ_API_KEY={groq()}\n".encode()
    with tarfile.open(tree / "site.tar.gz", "w:gz") as tf:
        info = tarfile.TarInfo("etc/app.env")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("lib/plugin.whl")
        info.size = len(buf.getvalue())
        tf.addfile(info, io.BytesIO(buf.getvalue()))
    check(run_cli(tree, tmp_path, {"archives": True}, caplog),
          Expect(found=[("site.tar.gz!/etc/app.env", 1), ("site.tar.gz!/lib/plugin.whl!/conf/.env", 2)]), tree)


# ---------------------------------------------------------------------------- chunks and encodings

def scan_records(root: Path, **options: object) -> tuple[list, list]:
    import datetime as dt

    from agentreach_connectors.files import FilesConnector

    from agentreach.connector import ScanContext

    ctx = ScanContext(clock=lambda: dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    records = list(FilesConnector({"paths": [str(root)], "workers": 1, **options}).scan(ctx))
    return records, ctx.gaps.gaps


def places(records: list) -> list[tuple[str, int]]:
    from agentreach.model import Location

    return sorted((r.path, r.line) for r in records if isinstance(r, Location))


@pytest.mark.parametrize("before", [4096 - 60, 4096 - 30, 4096 - 4, 4096, 4096 + 1, 8192 - 20])
@pytest.mark.parametrize("layout", ["lines", "one line", "crlf"])
def test_a_secret_across_a_chunk_boundary_is_found_once(tmp_path: Path, before: int, layout: str) -> None:
    """chunk_bytes 4096, overlap 512: the key starts ``before`` characters in, so it sits across
    the first window's edge (or just inside or after it)."""
    key = groq()
    nl = {"lines": "\n", "one line": " ", "crlf": "\r\n"}[layout]
    filler = ""
    while len(filler) < before:
        filler += "x = compute(1)" + nl
    filler = filler[:before - len(nl)] + nl if layout != "one line" else filler[:before]
    text = filler + f"GROQ_API_KEY={key}" + nl + ("y = 2" + nl) * 2000
    (tmp_path / "big.txt").write_bytes(text.encode())
    line = filler.count("\n") + 1
    records, gaps = scan_records(tmp_path, chunk_bytes=4096, chunk_overlap=512)
    assert not gaps
    assert places(records) == [("big.txt", line)]


@pytest.mark.parametrize("encoding, bom", [
    ("utf-8", codecs.BOM_UTF8), ("utf-8", b""), ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-16-le", b""), ("utf-16-be", b""), ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE),
    ("latin-1", b""), ("cp1252", b""),
])
def test_encodings_people_write(tmp_path: Path, encoding: str, bom: bytes) -> None:
    text = ("# caf\u00e9 \u2014 r\u00e9sum\u00e9\n" if encoding not in ("latin-1",) else "# caf\u00e9 r\u00e9sum\u00e9\n")
    text += "LOG=1\n\nGROQ_API_KEY=" + groq() + "\n"
    (tmp_path / "app.env").write_bytes(bom + text.encode(encoding))
    for size in (1 << 20, 4096):  # whole, and in windows (chunk_bytes smaller than the file is not needed)
        records, gaps = scan_records(tmp_path, chunk_bytes=size, chunk_overlap=256)
        assert not gaps
        assert places(records) == [("app.env", 4)], (encoding, bom, size)


def test_lines_are_the_editors_lines(tmp_path: Path) -> None:
    """Form feeds, vertical tabs, NEL (U+0085), U+2028 and lone CR inside a line do not end it
    (str.splitlines would), and a file with only CR line ends is read by them."""
    key = groq()
    (tmp_path / "mixed.py").write_text("a = 1\x0c\nb = '\x0b\u0085\u2028'\nc = '\r'\n" + f"KEY = '{key}'\n")
    (tmp_path / "mac.env").write_bytes(f"A=1\rB=2\rGROQ_API_KEY={groq()}\r".encode())
    records, gaps = scan_records(tmp_path)
    assert not gaps
    assert places(records) == [("mac.env", 3), ("mixed.py", 4)]


def test_binary_is_skipped_and_counted(tmp_path: Path) -> None:
    from agentreach_connectors.files import FilesConnector

    from agentreach.connector import ScanContext

    (tmp_path / "blob.dat").write_bytes(b"GROQ_API_KEY=" + groq().encode() + b"\0\x01\x02" * 100)
    (tmp_path / "pic.png").write_bytes(b"\x89PNG")
    connector = FilesConnector({"paths": [str(tmp_path)], "workers": 1})
    assert places(list(connector.scan(ScanContext()))) == []
    assert connector.summary()["skipped"] == {"binary": 1, "binary extension": 1}


def test_followed_symlinks_stay_inside_the_root(tmp_path: Path) -> None:
    from agentreach_connectors.files import FilesConnector

    from agentreach.connector import ScanContext

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "host.env").write_text(f"GROQ_API_KEY={groq()}\n")
    tree = tmp_path / "tree"
    write_normal(tree)
    (tree / "linked").mkdir()
    os.symlink("../app/.env", tree / "linked" / "same.env")  # inside: read at the link's path
    os.symlink(outside / "host.env", tree / "linked" / "host.env")  # outside: never read
    os.symlink(outside, tree / "linked" / "outdir")
    os.symlink("missing.env", tree / "linked" / "dangling.env")
    connector = FilesConnector({"paths": [str(tree)], "workers": 1, "follow_symlinks": True})
    records = list(connector.scan(ScanContext()))
    assert places(records) == [("app/.env", 2), ("linked/same.env", 2)]
    assert connector.summary()["skipped"] == {"symlink outside the root": 2, "broken symlink": 1}
    plain = FilesConnector({"paths": [str(tree)], "workers": 1})
    assert places(list(plain.scan(ScanContext()))) == [("app/.env", 2)]
    assert plain.summary()["skipped"] == {"symlink": 4}
