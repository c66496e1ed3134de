"""The CI gate: new findings the gate policy blocks fail the build; known ones (the
baseline) and suppressed ones (with a reason, an owner and an expiry) do not; an
incomplete scan never passes silently.

Fingerprints come from rule + subject id only (no line numbers, no secret values), so a
baseline survives reformatting and rescans. Everything here is pure except the two
functions that read and write the baseline file.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .config import ConfigError

BASELINE_VERSION = 1
PASS, BLOCKED, UNDECIDED = "pass", "blocked", "undecided"
UNTRIAGED_RULE = "AR-AGENT-UNTRIAGED"


@dataclass(frozen=True)
class Suppression:
    """Accepted risk: matches by fingerprint, or by rule and a subject glob."""

    reason: str
    owner: str
    expires: dt.date
    fingerprint: str | None = None
    rule: str | None = None
    subject: str | None = None

    def matches(self, finding: Mapping[str, Any]) -> bool:
        if self.fingerprint:
            return finding["fingerprint"] == self.fingerprint
        return (self.rule in (None, finding["rule"])
                and (self.subject is None or fnmatch.fnmatchcase(finding["subject"], self.subject)
                     or fnmatch.fnmatchcase(finding.get("subject_name") or "", self.subject)))

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def to_dict(self) -> dict[str, Any]:
        out = {"reason": self.reason, "owner": self.owner, "expires": self.expires.isoformat()}
        out.update({k: v for k, v in (("fingerprint", self.fingerprint), ("rule", self.rule),
                                      ("subject", self.subject)) if v})
        return out


@dataclass
class Baseline:
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)  # fingerprint -> {rule, subject, severity}
    suppressions: list[Suppression] = field(default_factory=list)
    # The fingerprint salt shared through the file by `agentreach precommit`, so that a file
    # secret's fingerprint, and so its finding's, is the same on every clone of the repo.
    salt: str | None = None


def load_baseline(path: str | Path) -> Baseline:
    """A missing file is an empty baseline; a malformed one is a one-line error naming it."""
    p = Path(path)
    if not p.exists():
        return Baseline()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"baseline {p}: not readable JSON ({exc})") from None
    if not isinstance(data, Mapping) or data.get("version") != BASELINE_VERSION:
        raise ConfigError(f"baseline {p}: expected an agentreach baseline, version {BASELINE_VERSION}")
    findings = {}
    for item in data.get("findings") or []:
        if not isinstance(item, Mapping) or "fingerprint" not in item:
            raise ConfigError(f"baseline {p}: every finding needs a fingerprint")
        findings[item["fingerprint"]] = dict(item)
    suppressions = []
    for i, item in enumerate(data.get("suppressions") or []):
        missing = [k for k in ("reason", "owner", "expires") if not (isinstance(item, Mapping) and item.get(k))]
        if missing:
            raise ConfigError(f"baseline {p}: suppression #{i + 1} needs {', '.join(missing)}")
        if not (item.get("fingerprint") or item.get("rule")):
            raise ConfigError(f"baseline {p}: suppression #{i + 1} needs a fingerprint or a rule")
        try:
            expires = dt.date.fromisoformat(str(item["expires"]))
        except ValueError:
            raise ConfigError(f"baseline {p}: suppression #{i + 1}: expires must be YYYY-MM-DD") from None
        suppressions.append(Suppression(reason=item["reason"], owner=item["owner"], expires=expires,
                                        fingerprint=item.get("fingerprint"), rule=item.get("rule"),
                                        subject=item.get("subject")))
    salt = data.get("fingerprint_salt")
    if salt is not None and not (isinstance(salt, str) and len(salt) >= 16):
        raise ConfigError(f"baseline {p}: fingerprint_salt must be a string of at least 16 characters")
    return Baseline(findings, suppressions, salt)


def save_baseline(path: str | Path, findings: Iterable[Mapping[str, Any]], keep: Baseline | None = None,
                  now: dt.datetime | None = None, salt: str | None = None) -> None:
    """Write every current finding as known; suppressions (and a shared salt) already in
    the file are kept."""
    body: dict[str, Any] = {
        "version": BASELINE_VERSION,
        "generated_at": (now or dt.datetime.now(dt.timezone.utc)).isoformat().replace("+00:00", "Z"),
        "findings": sorted(({"fingerprint": f["fingerprint"], "rule": f["rule"], "subject": f["subject"],
                             "severity": f["severity"]} for f in findings), key=lambda f: (f["rule"], f["subject"])),
        "suppressions": [s.to_dict() for s in (keep.suppressions if keep else [])],
    }
    if salt or (keep and keep.salt):
        body["fingerprint_salt"] = salt or (keep.salt if keep else None)
    Path(path).write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class GatePolicy:
    block_rules: frozenset[str] = frozenset()
    block_severities: frozenset[str] = frozenset({"critical"})
    allow_gaps: bool = False
    # A new credential whose agent verdict is `possible` blocks until a person triages it.
    block_untriaged_possible: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "GatePolicy":
        gate = config.get("gate") or {}
        return cls(block_rules=frozenset(gate.get("block_rules") or ()),
                   block_severities=frozenset(gate.get("block_severities") or ()),
                   allow_gaps=bool(gate.get("allow_gaps", False)),
                   block_untriaged_possible=bool(gate.get("block_untriaged_possible", False)))

    def blocks(self, finding: Mapping[str, Any]) -> bool:
        return (finding["rule"] in self.block_rules or finding["severity"] in self.block_severities
                or (self.block_untriaged_possible and finding["rule"] == UNTRIAGED_RULE))


def untriaged_possible(verdicts: Mapping[str, Mapping[str, Any]], credentials: Mapping[str, str]
                       ) -> list[dict[str, Any]]:
    """A gate item for each credential (id -> name) whose agent verdict is ``possible``.
    A triaged one is never here: a person's decision makes the verdict agent or none. The
    items have a finding's shape and fingerprint (rule + subject), so a baseline records
    them and a suppression silences them like any finding."""
    out = []
    for cid, name in sorted(credentials.items()):
        verdict = verdicts.get(cid) or {}
        if verdict.get("verdict") != "possible":
            continue
        out.append({"rule": UNTRIAGED_RULE, "severity": "medium", "subject": cid, "subject_name": name,
                    "title": f"possible agent credential {name} is not triaged",
                    "evidence": [f"agent verdict possible (score {verdict.get('score')}): triage it with "
                                 f"'agentreach triage {cid} --agent|--not-agent --reason TEXT'"],
                    "fingerprint": hashlib.sha256(f"{UNTRIAGED_RULE}\x1f{cid}".encode()).hexdigest()})
    return out


@dataclass
class GateResult:
    status: str
    reason: str
    blocking: list[Mapping[str, Any]] = field(default_factory=list)
    new: list[Mapping[str, Any]] = field(default_factory=list)
    baselined: list[Mapping[str, Any]] = field(default_factory=list)
    suppressed: list[tuple[Mapping[str, Any], Suppression]] = field(default_factory=list)
    expired: list[tuple[Mapping[str, Any], Suppression]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "reason": self.reason,
            "blocking": [dict(f) for f in self.blocking], "new": [f["fingerprint"] for f in self.new],
            "baselined": len(self.baselined),
            "suppressed": [{"fingerprint": f["fingerprint"], **s.to_dict()} for f, s in self.suppressed],
            "expired_suppressions": [{"fingerprint": f["fingerprint"], **s.to_dict()} for f, s in self.expired],
        }


def decide(findings: Iterable[Mapping[str, Any]], baseline: Baseline, policy: GatePolicy, *,
           snapshot_status: str, gap_count: int, today: dt.date,
           untriaged: Iterable[Mapping[str, Any]] = ()) -> GateResult:
    """``untriaged``: ``untriaged_possible`` items, gated like findings when the policy
    blocks untriaged possible agent credentials (and ignored when it does not)."""
    findings = list(findings) + (list(untriaged) if policy.block_untriaged_possible else [])
    if snapshot_status != "complete":
        return GateResult(UNDECIDED, f"the scan did not complete (status {snapshot_status}): cannot pass it")
    if gap_count and not policy.allow_gaps:
        return GateResult(UNDECIDED, f"the scan has {gap_count} coverage gaps: what it could not see may be "
                                     "what should block (gate.allow_gaps: true to decide anyway)")
    result = GateResult(PASS, "no new finding that the gate policy blocks")
    for finding in findings:
        if finding["fingerprint"] in baseline.findings:
            result.baselined.append(finding)
            continue
        result.new.append(finding)
        suppression = next((s for s in baseline.suppressions if s.matches(finding)), None)
        if suppression is not None and not suppression.expired(today):
            result.suppressed.append((finding, suppression))
            continue
        if suppression is not None:
            result.expired.append((finding, suppression))
        if policy.blocks(finding):
            result.blocking.append(finding)
    if result.blocking:
        result.status = BLOCKED
        result.reason = f"{len(result.blocking)} new finding(s) that the gate policy blocks"
    return result
