"""Public ids of found secrets: the id under which a cloud connector knows the same
credential, so a found_in edge can start at that credential (AR-SECRET-LEAKED-LIVE)."""

from __future__ import annotations

import re

from agentreach.model import node_id

AWS_KEY_ID = re.compile(r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b")


def aws_key_ids(lines: list[str]) -> list[tuple[int, str]]:
    """(1-based line, key id) of every AWS access key id in the lines."""
    out = []
    for i, line in enumerate(lines, start=1):
        for m in AWS_KEY_ID.finditer(line):
            out.append((i, m.group(1)))
    return out


def nearest(pairs: list[tuple[int, str]], line: int, window: int = 10) -> str | None:
    best = None
    for n, key in pairs:
        d = abs(n - line)
        if d <= window and (best is None or d < best[0]):
            best = (d, key)
    return best[1] if best else None


def linked_ids(public_id: dict[str, str]) -> list[str]:
    """Ids of the cloud credentials a public id names."""
    out = []
    if public_id.get("aws_access_key_id"):
        out.append(node_id("aws", "access_key", public_id["aws_access_key_id"]))
    if public_id.get("gcp_private_key_id"):
        out.append(node_id("gcp", "sa_key", public_id["gcp_private_key_id"]))
    if public_id.get("certificate_sha1"):
        out.append(node_id("x509", "certificate", public_id["certificate_sha1"]))
    return out
