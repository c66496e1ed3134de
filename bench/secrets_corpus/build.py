"""Builds the benchmark tree from the recorded cases (sources.py) and a few whole files that
others wrote (ciphertext, certificates, hashes, documentation examples), deterministically:
the same mirrors give the same tree, byte for byte.

Each case is put into real-world file shapes. An example that already carries its context (an
assignment, a curl command, a connection string in code) is embedded verbatim in a shell script,
a log, a Markdown page or a source file. A bare value (the example is the token alone) is given
the vendor's documented variable name (``env`` in kinds.yaml) in a .env, YAML, JSON, a notebook
cell, Terraform, a Kubernetes Secret (base64 under ``data:``), a shell export or a log line.
Shapes are picked by a hash of the case id, never by what a scanner finds.

Derived negatives: each positive whose secret is known is also written masked (``sk-p…``,
``****``), and every fifth one is written under a ``tests/fixtures/`` path (a marked fixture is
reported low, not flagged). The truth lists, per file, the lines where a positive's secret sits.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import sources
from .sources import Case, Source

SITE_PACKAGES_NOTE = "installed PyPI package"
FIXTURES = "fixtures-root"  # scanned as a root of its own (see secrets_eval.py)


@dataclass
class Plant:
    """One scored case in the tree: where it is and what a scanner should say there."""

    case_id: str
    label: str  # positive | negative
    klass: str  # the kind (positives) or the negative class
    path: str
    lines: tuple[int, ...]  # the lines a finding must be on (positives); all lines of the case (negatives)
    region: tuple[int, ...] = ()  # every line of the example: other secrets in it are neither hit nor noise
    agent: bool = False
    source: dict[str, str] = field(default_factory=dict)


def pick(case_id: str, options: list[str], n: int) -> list[str]:
    """``n`` distinct options chosen by a hash of the case id (stable across runs)."""
    h = int(hashlib.sha256(case_id.encode()).hexdigest(), 16)
    out: list[str] = []
    i = 0
    while len(out) < min(n, len(options)):
        o = options[(h >> (5 * i)) % len(options)]
        if o not in out:
            out.append(o)
        i += 1
        if i > 50:
            out += [o for o in options if o not in out][: n - len(out)]
    return out


def is_bare(text: str) -> bool:
    t = text.strip()
    return "\n" not in t and " " not in t and "=" not in t.rstrip("=") and '"' not in t and "'" not in t


def slug(case_id: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in case_id).strip("-")[:80]


# ---------------------------------------------------------------------------- shapes

def bare_shape(shape: str, name: str, value: str, where: str) -> tuple[str, list[str]]:
    """(file name, lines) holding ``name = value`` in one shape, among a little filler."""
    low = name.lower()
    if shape == "env":
        return ".env", ["# service settings", "LOG_LEVEL=info", f"{name}={value}", "PORT=8080"]
    if shape == "yaml":
        return "config.yaml", ["service:", "  name: api", "  credentials:", f"    {low}: {value}", "  replicas: 2"]
    if shape == "json":
        return "settings.json", ["{", '  "region": "eu-west-1",', f'  "{low}": "{value}",', '  "debug": false', "}"]
    if shape == "ipynb":
        cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
                "source": ["import os\n", f'os.environ["{name}"] = "{value}"\n']}
        nb = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)
        return "analysis.ipynb", nb.split("\n")
    if shape == "tf":
        return "main.tf", [f'variable "{low}" {{', "  type    = string", f'  default = "{value}"', "}"]
    if shape == "k8s":
        b64 = base64.b64encode(value.encode()).decode()
        return "secret.yaml", ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {where}", "type: Opaque",
                               "data:", f"  {name}: {b64}"]
    if shape == "sh":
        return "deploy.sh", ["#!/usr/bin/env bash", "set -euo pipefail", f'export {name}="{value}"', "./run.sh"]
    if shape == "log":
        return "app.log", ["2025-03-02T10:00:01Z INFO starting worker",
                           f"2025-03-02T10:00:02Z DEBUG env {name}={value}", "2025-03-02T10:00:03Z INFO ready"]
    raise ValueError(shape)


def verbatim_shape(shape: str, text: str) -> tuple[str, list[str], int]:
    """(file name, lines, index of the example's first line) with ``text`` embedded as is."""
    body = text.rstrip("\n").split("\n")
    if shape == "sh":
        return "run.sh", ["#!/bin/sh", "# ops notes", *body, "echo done"], 2
    if shape == "log":
        return "service.log", ["2025-03-02T10:00:01Z INFO request started", *body, "2025-03-02T10:00:04Z INFO ok"], 1
    if shape == "md":
        return "NOTES.md", ["# Setup", "", "```", *body, "```", ""], 3
    if shape == "py":
        return "settings.py", ['"""Settings."""', "", *body, "", "DEBUG = False"], 2
    if shape == "txt":
        return "config.txt", ["[main]", *body, "timeout=30"], 1
    raise ValueError(shape)


BARE_SHAPES = ["env", "yaml", "json", "ipynb", "tf", "k8s", "sh", "log"]
VERBATIM_SHAPES = ["sh", "log", "md", "py", "txt"]


def secret_lines(lines: list[str], start: int, body_len: int, secret: str) -> tuple[int, ...]:
    """1-based lines where ``secret`` starts inside the example (all the example's lines if unknown)."""
    span = range(start, start + body_len)
    parts = [p.split("\n")[0].strip() for p in secret.split("\n") if p.strip()] if secret else []
    hits = tuple(i + 1 for i in span if any(p in lines[i] for p in parts))
    if hits and hits[0] >= 2 and "-----BEGIN" in lines[hits[0] - 2]:
        hits = (hits[0] - 1, *hits)  # a PEM block is located at its BEGIN line
    if hits:
        return hits
    return tuple(i + 1 for i in span)


def source_of(c: Case) -> dict[str, str]:
    return {"repo": c.repo, "path": c.path, "commit": c.commit, "rule": c.rule, "field": c.field_name,
            "index": str(c.index)}


def mask(secret: str) -> str:
    keep = 4 if len(secret) > 12 else 1
    return secret[:keep] + "*" * max(8, len(secret) - 2 * keep) + secret[-keep:] if len(secret) > 8 else "********"


# ---------------------------------------------------------------------------- whole files

@dataclass(frozen=True)
class Document:
    """A whole file others wrote that is a hard negative of one class."""

    klass: str
    source: Source | None  # None: a file of an installed package (``package``)
    path: str
    package: str = ""


def _mirror(repo: str, commit: str) -> Source:
    return Source(repo.split("/")[1], repo, commit, "", "file")


SOPS = _mirror("getsops/sops", "15e36f97a8641769712da76b64aec4ea566be81e")
ANSIBLE = _mirror("ansible/ansible", "c9ac477e53a99e95781f333eec3329a935c1bf95")
SEALED = _mirror("bitnami-labs/sealed-secrets", "86671a8851be1e6c2dfef4e12e2d7c19ed24ac94")
DOCUMENTS = [
    *(Document("ciphertext", SOPS, p) for p in (
        "example.yaml", "example.json", "example.ini", "example.txt", "functional-tests/res/format.enc.env",
        "functional-tests/res/format.enc.json", "functional-tests/res/format.enc.yaml",
        "examples/all_in_one/config/secret.enc.json")),
    *(Document("ciphertext", ANSIBLE, f"test/integration/targets/ansible-vault/{p}") for p in (
        "host_vars/testhost.yml", "format_1_1_AES256.yml", "files/test_assemble/secret.vault",
        "encrypted-vault-password")),
    Document("ciphertext", SEALED, "vendor_jsonnet/kube-libsonnet/tests/golden/test-sealedsecrets-datalines.json"),
    Document("ciphertext", SEALED, "docs/examples/config-template/sealedsecret.yaml"),
    Document("certificates and public keys", SEALED, ".github/workflows/cosign.pub"),
    Document("certificates and public keys", None, "certifi/cacert.pem", "certifi"),
    Document("hashes", SOPS, "go.sum"),
    Document("hashes", None, "RECORD", "detect-secrets"),
    Document("hashes", None, "RECORD", "cryptography"),
    Document("hashes", None, "RECORD", "PyYAML"),
    Document("documentation examples", None, "botocore/data/iam/2010-05-08/examples-1.json", "botocore"),
    Document("documentation examples", None, "botocore/data/sts/2011-06-15/examples-1.json", "botocore"),
    Document("documentation examples", None, "boto3/examples/cloudfront.rst", "boto3"),
]


def read_document(doc: Document) -> tuple[str, dict[str, str]]:
    if doc.source is not None:
        return (sources.git(doc.source, "show", f"{doc.source.commit}:{doc.path}"),
                {"repo": doc.source.repo, "path": doc.path, "commit": doc.source.commit})
    from importlib import metadata

    dist = metadata.distribution(doc.package)
    if doc.path == "RECORD":
        text = dist.read_text("RECORD") or ""
        path = f"{dist.metadata['Name']}-{dist.version}.dist-info/RECORD"
    else:
        located = dist.locate_file(doc.path)
        text = Path(str(located)).read_text()
        path = doc.path
    return text, {"repo": f"{SITE_PACKAGES_NOTE} {dist.metadata['Name']}=={dist.version}", "path": path,
                  "commit": ""}


# ---------------------------------------------------------------------------- the tree

class Tree:
    """The files written under one root (each path once), text kept for the asserts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: dict[str, str] = {}

    def write(self, rel: str, lines: list[str]) -> None:
        assert rel not in self.written, rel
        text = "\n".join(lines) + "\n"
        self.written[rel] = text
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def plant_cases(tree: Tree, scored: list[Case]) -> list[Plant]:
    """Write each scored case in its shapes (and the derived negatives); return the plants.
    Shared by the others' corpus and the held-out set so both are written the same way."""
    kinds = sources.load_kinds()["kinds"]
    plants: list[Plant] = []
    write = tree.write
    for n, c in enumerate(scored):
        top = ("pos" if c.label == "positive" else "neg") + f"/{n:04d}-{slug(c.id)}"
        klass = c.kind if c.label == "positive" else (c.kind or "rule negative examples")
        if c.label == "positive" and is_bare(c.text):
            name = kinds[c.kind].get("env") or "API_KEY"
            value = c.text.strip()
            for shape in pick(c.id, BARE_SHAPES, 3):
                fname, lines = bare_shape(shape, name, value, slug(c.id)[:40].lower())
                needle = base64.b64encode(value.encode()).decode() if shape == "k8s" else value
                at = tuple(i + 1 for i, line in enumerate(lines) if needle in line)
                write(f"{top}/{shape}/{fname}", lines)
                plants.append(Plant(c.id, c.label, klass, f"{top}/{shape}/{fname}", at, at, c.agent, source_of(c)))
        else:
            for shape in pick(c.id, VERBATIM_SHAPES, 2):
                fname, lines, start = verbatim_shape(shape, c.text)
                body = len(c.text.rstrip("\n").split("\n"))
                at = (secret_lines(lines, start, body, c.secret) if c.label == "positive"
                      else tuple(range(start + 1, start + body + 1)))
                write(f"{top}/{shape}/{fname}", lines)
                plants.append(Plant(c.id, c.label, klass, f"{top}/{shape}/{fname}", at,
                                    tuple(range(start + 1, start + body + 1)), c.agent, source_of(c)))
        if c.label != "positive" or not c.secret or "\n" in c.secret or not is_bare(c.text):
            continue
        name = kinds[c.kind].get("env") or "API_KEY"
        masked = mask(c.secret)
        fname, lines = bare_shape(pick(c.id, ["env", "yaml", "log"], 1)[0], name, masked, "masked")
        write(f"neg/masked/{n:04d}/{fname}", lines)
        plants.append(Plant(c.id, "negative", "masked values", f"neg/masked/{n:04d}/{fname}",
                            tuple(range(1, len(lines) + 1)), (), False, source_of(c)))
        if n % 5 == 0:
            fname, lines = bare_shape(pick(c.id, ["env", "yaml", "json"], 1)[0], name, c.secret, "fixture")
            # under its own root: the same value in a positive file would make it no fixture
            write(f"{FIXTURES}/tests/fixtures/{n:04d}/{fname}", lines)
            plants.append(Plant(c.id, "negative", "test fixtures", f"{FIXTURES}/tests/fixtures/{n:04d}/{fname}",
                                tuple(range(1, len(lines) + 1)), (), False, source_of(c)))
    return plants


def build(root: Path) -> list[Plant]:
    """Write the benchmark under ``root``; return what is planted where (no values)."""
    tree = Tree(root)
    plants = plant_cases(tree, [c for c in sources.cases() if not c.excluded])
    for i, doc in enumerate(DOCUMENTS):
        text, src = read_document(doc)
        rel = f"neg/{doc.klass.split()[0]}/{i:02d}/{Path(doc.path).name}"
        tree.write(rel, text.rstrip("\n").split("\n"))
        plants.append(Plant(f"document:{i}", "negative", doc.klass, rel,
                            tuple(range(1, text.count("\n") + 2)), (), False, src))
    return plants


def build_heldout(root: Path) -> list[Plant]:
    """Write the held-out set (heldout.py: TruffleHog's detector tests) under its own ``root``,
    in the same shapes; nothing of the others' corpus is in it."""
    from . import heldout

    return plant_cases(Tree(root), [c for c in heldout.cases() if not c.excluded])


def build_semgrep(root: Path) -> list[Plant]:
    """Write the Semgrep set (semgrep.py: the annotated tests of Semgrep's rules) under its own
    ``root``: each test file with a scored annotation once, verbatim (its name, its lines), in a
    folder per rule file; one plant per scored annotated statement. An annotated example only
    makes sense inside its file, so no other shape is made; the file's other lines are neither
    hit nor noise (secrets_eval.py scores the plants' lines only)."""
    from . import semgrep

    tree = Tree(root)
    corpus = semgrep.read()
    scored = [c for c in semgrep.cases() if not c.excluded]
    for test in sorted({c.path for c in scored}):
        text = corpus.tests[test][1]
        tree.write(semgrep.tree_path(test), (text[:-1] if text.endswith("\n") else text).split("\n"))
    plants = []
    for c in scored:
        lines = semgrep.lines_of(c)
        plants.append(Plant(c.id, c.label, c.kind, semgrep.tree_path(c.path), lines, lines, c.agent, source_of(c)))
    return plants


def provenance(plants: list[Plant]) -> list[dict[str, object]]:
    """One row per planted file: case, class, path, lines and the source (no values)."""
    return [{"case": p.case_id, "label": p.label, "class": p.klass, "path": p.path, "lines": list(p.lines),
             **p.source} for p in plants]


def lock(path: Path) -> int:
    """Write cases.lock.tsv (ids, sources, digests; no values); return the number of rows."""
    rows = sources.lock_lines(sources.cases())
    path.write_text("\n".join(rows) + "\n")
    return len(rows) - 1


def lock_heldout(path: Path) -> int:
    """Write heldout.lock.tsv (ids, sources, digests, skips; no values); return the number of rows."""
    from . import heldout

    rows = heldout.lock_lines(heldout.cases())
    path.write_text("\n".join(rows) + "\n")
    return len(rows) - 1


def lock_semgrep(path: Path) -> int:
    """Write semgrep.lock.tsv (ids, sources, lines, digests, skips; no values); return the number of rows."""
    from . import semgrep

    rows = semgrep.lock_lines(semgrep.cases())
    path.write_text("\n".join(rows) + "\n")
    return len(rows) - 1
