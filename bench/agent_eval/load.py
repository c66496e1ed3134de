"""Load the independent benchmark: every ``data/*.yaml`` file's cases, translated into the
records our connectors emit, with the case behind each labelled node.

    nodes, edges, labelled = build()

Same shape as ``tests.labelled_estate.build()``, so one evaluation reads both. A case that
does not say what it must, or a subject no record defines, is a one-line ``CaseError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

from agentreach.model import Edge, Node

from .aws import AwsEstate
from .azure import AzureEstate
from .cases import Case, CaseError, case_from
from .gcp import GcpEstate

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
REFERENCE = HERE / "reference"


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CaseError(f"{path.name}: not valid YAML: {str(exc).splitlines()[0]}") from None


def load_cases(files: Iterable[Path] | None = None) -> list[Case]:
    """Every case of the data files, checked; ids are unique across files."""
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in sorted(files if files is not None else DATA.glob("*.yaml")):
        doc = _yaml(path) or {}
        defaults = doc.get("source") or {}
        for item in doc.get("cases") or []:
            case = case_from(item, defaults, path.name)
            if case.id in seen:
                raise CaseError(f"{path.name}: case {case.id}: id already used in {seen[case.id]}")
            seen[case.id] = path.name
            cases.append(case)
    return cases


def reference(name: str) -> dict[str, Any]:
    doc = _yaml(REFERENCE / name) or {}
    return {k: v for k, v in doc.items() if k != "source"}


def build(files: Iterable[Path] | None = None) -> tuple[list[Node], list[Edge], dict[str, Case]]:
    """The nodes and edges of the three estates, and the case behind each labelled node id."""
    cases = load_cases(files)
    estates = {"aws": AwsEstate(managed=reference("aws_managed_policies.yaml")),
               "azure": AzureEstate(roles=reference("azure_roles.yaml")),
               "gcp": GcpEstate()}
    for case in cases:
        estates[case.cloud].add(case)  # type: ignore[attr-defined]
    nodes: dict[str, Node] = {}
    edges: dict[str, Edge] = {}
    for estate in estates.values():
        for rec in estate.records():  # type: ignore[attr-defined]
            if isinstance(rec, Edge):
                edges[rec.id] = rec
            else:
                nodes.setdefault(rec.id, rec)
    labelled: dict[str, Case] = {}
    for case in cases:
        nid = estates[case.cloud].subject_id(case)  # type: ignore[attr-defined]
        if nid not in nodes:
            raise CaseError(f"{case.file}: case {case.id}: subject {case.subject!r} is not among the records")
        if nid in labelled:
            raise CaseError(f"{case.file}: case {case.id}: subject already labelled by case {labelled[nid].id}")
        labelled[nid] = case
    return list(nodes.values()), list(edges.values()), labelled
