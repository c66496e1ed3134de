"""Public ids of found secrets: the id under which a cloud connector knows the same
credential. The connector records them in ``attrs.public_id``; the reach-time deriver
``agentreach.graph.link_edges`` turns a match into a found_in edge from that credential
(AR-SECRET-LEAKED-LIVE), so this connector never guesses another connector's node ids."""

from __future__ import annotations

import re

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
