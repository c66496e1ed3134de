"""The product never imports the stand-ins: every module of ``agentreach`` and of the built-in
connectors is read with ``ast`` and none may import moto, ``agentreach_testing`` (the front
door, the Entra/ARM and GCP fakes, the demo) or the old in-product homes of those; and the
CLI reaches the demo only through the plugin registry, without loading a stand-in."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import agentreach_connectors

import agentreach

FORBIDDEN = ("agentreach_testing", "moto", "agentreach.testing", "agentreach.demo")
PRODUCT = (Path(agentreach.__file__).parent, Path(agentreach_connectors.__file__).parent)


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def _imports(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            out.append((node.lineno, module))
            out += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            out.append((node.lineno, str(node.args[0].value)))
    return out


def _modules() -> list[tuple[Path, str]]:
    found = []
    for root in PRODUCT:
        top = "agentreach" if root.name == "agentreach" else "agentreach_connectors"
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found.append((path, ".".join([top, *parts[:-1]])))  # the package its relative imports start from
    return found


def test_no_product_module_imports_a_stand_in() -> None:
    modules = _modules()
    assert len(modules) > 40  # the walk found the product, not an empty folder
    bad = [f"{path}:{line}: {module}" for path, package in modules
           for line, module in _imports(path, package) if _forbidden(module)]
    assert bad == []


def test_the_old_homes_of_the_stand_ins_are_gone() -> None:
    root = PRODUCT[0]
    assert not (root / "testing").exists() and not (root / "demo").exists()


def test_the_boundary_check_sees_an_import_of_a_stand_in(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import os\nfrom moto.server import ThreadedMotoServer\n"
                     "def f():\n    from ..testing.gcp_fake import CANARY\n"
                     "    import importlib; importlib.import_module('agentreach_testing.faults')\n")
    found = [m for _, m in _imports(probe, "agentreach.report") if _forbidden(m)]
    assert found == ["moto.server", "moto.server.ThreadedMotoServer", "agentreach.testing.gcp_fake",
                     "agentreach.testing.gcp_fake.CANARY", "agentreach_testing.faults"]


def test_help_lists_the_demo_without_loading_a_stand_in() -> None:
    code = ("import sys\nfrom click.testing import CliRunner\nfrom agentreach.cli import main\n"
            "r = CliRunner().invoke(main, ['--help'])\nassert r.exit_code == 0, r.output\n"
            "print('DEMO' if '  demo ' in r.output else 'NO-DEMO')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('moto', 'agentreach_testing')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "DEMO"
    assert lines[1] == str(["agentreach_testing", "agentreach_testing.demo", "agentreach_testing.demo.command",
                            "agentreach_testing.demo.plugin"])
