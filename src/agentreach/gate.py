"""The CI gate: new findings the gate policy blocks fail the build; known ones (the
baseline) and suppressed ones (with a reason, an owner and an expiry) do not; an
incomplete scan never passes silently.

Fingerprints come from rule + subject id only (no line numbers, no secret values), so a
baseline survives reformatting and rescans. A secret found in a file is named by its shared
identity (:mod:`agentreach.fingerprints`): scrypt under the salt and cost the baseline itself
records, so its fingerprint is the same on every store, machine and clone that reads the
baseline, and the committed file confirms a guessed value only at one scrypt per guess.
Everything here is pure except the functions that read and write the baseline file.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .config import ConfigError
from .fingerprints import IdScheme

# 2: the secret-id scheme in the file ("fingerprints": kdf, cost, per-repository salt); 1 held
# "fingerprint_salt" beside fast salted hashes of the secrets, which confirmed a guess offline.
BASELINE_VERSION = 2
READABLE_VERSIONS = (1, 2)
PASS, BLOCKED, UNDECIDED = "pass", "blocked", "undecided"
UNTRIAGED_RULE = "AR-AGENT-UNTRIAGED"
FILE_SECRET = "files:secret:"
DEFAULT_BASELINE = ".agentreach-baseline.json"  # the gate's and the hook's file when config names none
SCHEME_OPTION = "secret_ids"  # where a snapshot's options record the scheme its file secrets were named with


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
    # How the repository's file secrets are named (kdf, cost, per-repository salt): every scan
    # that reads this baseline names them so, and so finds them here on every clone.
    scheme: IdScheme | None = None
    version: int = BASELINE_VERSION

    @property
    def legacy_secrets(self) -> bool:
        """A version-1 file whose file-secret entries are fast salted hashes: they cannot be
        matched any more (and should not stay in the repository)."""
        return self.version < 2 and any(str(f.get("subject", "")).startswith(FILE_SECRET)
                                        for f in self.findings.values())


def load_baseline(path: str | Path) -> Baseline:
    """A missing file is an empty baseline; a malformed one is a one-line error naming it."""
    p = Path(path)
    if not p.exists():
        return Baseline()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"baseline {p}: not readable JSON ({exc})") from None
    if not isinstance(data, Mapping) or data.get("version") not in READABLE_VERSIONS:
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
    scheme = None
    if data.get("fingerprints") is not None:
        try:
            scheme = IdScheme.from_dict(data["fingerprints"])
        except ValueError as exc:
            raise ConfigError(f"baseline {p}: {exc}") from None
    return Baseline(findings, suppressions, scheme, int(data["version"]))


def save_baseline(path: str | Path, findings: Iterable[Mapping[str, Any]], keep: Baseline | None = None,
                  now: dt.datetime | None = None, scheme: IdScheme | None = None,
                  params: Mapping[str, int] | None = None) -> IdScheme:
    """Write every current finding as known; suppressions already in the file are kept.
    ``scheme`` is the one the findings' file secrets were named with (the snapshot's); else
    the file's own, else a new one (fresh salt, ``params``' cost). Returns the scheme written."""
    scheme = scheme or (keep.scheme if keep else None) or IdScheme.new(params)
    body: dict[str, Any] = {
        "version": BASELINE_VERSION,
        "generated_at": (now or dt.datetime.now(dt.timezone.utc)).isoformat().replace("+00:00", "Z"),
        "fingerprints": scheme.to_dict(),
        "findings": sorted(({"fingerprint": f["fingerprint"], "rule": f["rule"], "subject": f["subject"],
                             "severity": f["severity"]} for f in findings), key=lambda f: (f["rule"], f["subject"])),
        "suppressions": [s.to_dict() for s in (keep.suppressions if keep else [])],
    }
    Path(path).write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return scheme


STORE_SALT = "store"  # recorded instead of a salt the store derives from its own (see scheme_record)


def scheme_record(scheme: IdScheme, store_salt: str) -> dict[str, Any]:
    """What a snapshot records of its scheme: all of it, except that the store's own salt is
    written as "store" (it is the store's to derive; stores' snapshots compare alike)."""
    record = scheme.to_dict()
    if scheme.salt == IdScheme.of_store(store_salt).salt:
        record["salt"] = STORE_SALT
    return record


def snapshot_scheme(options: Mapping[str, Any] | None, store_salt: str) -> IdScheme | None:
    """The scheme a snapshot's file secrets were named with (None: an older snapshot)."""
    data = (options or {}).get(SCHEME_OPTION)
    if not isinstance(data, Mapping):
        return None
    if data.get("salt") == STORE_SALT:
        data = {**data, "salt": IdScheme.of_store(store_salt).salt}
    try:
        return IdScheme.from_dict(data)
    except ValueError:
        return None


def scan_scheme(config: Mapping[str, Any], store_salt: str) -> IdScheme:
    """How a scan names the file secrets it finds: the scheme of the baseline the config names
    (``gate.baseline``, relative to the working directory; the gate's and the hook's default
    file), else the store's own, at the configured cost (``gate.fingerprint_kdf``)."""
    gate = config.get("gate") or {}
    params = dict(gate.get("fingerprint_kdf") or {})
    where = gate.get("baseline")
    if where:
        path = Path(os.path.expanduser(str(where)))
        baseline = load_baseline(path) if path.is_file() else None
        if baseline is not None and baseline.scheme is not None:
            return baseline.scheme
    return IdScheme.of_store(store_salt, params)


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
           untriaged: Iterable[Mapping[str, Any]] = (), scheme: IdScheme | None = None) -> GateResult:
    """``untriaged``: ``untriaged_possible`` items, gated like findings when the policy
    blocks untriaged possible agent credentials (and ignored when it does not). ``scheme``:
    the one the snapshot's file secrets were named with (None: not known)."""
    findings = list(findings) + (list(untriaged) if policy.block_untriaged_possible else [])
    if snapshot_status != "complete":
        return GateResult(UNDECIDED, f"the scan did not complete (status {snapshot_status}): cannot pass it")
    if gap_count and not policy.allow_gaps:
        return GateResult(UNDECIDED, f"the scan has {gap_count} coverage gaps: what it could not see may be "
                                     "what should block (gate.allow_gaps: true to decide anyway)")
    secrets_new = any(str(f["subject"]).startswith(FILE_SECRET) and f["fingerprint"] not in baseline.findings
                      for f in findings)
    if secrets_new and baseline.legacy_secrets:
        return GateResult(UNDECIDED, "the baseline's file secrets are fingerprints of the old kind (a fast salted "
                                     "hash, confirmable offline), which no scan matches now: record the baseline "
                                     "again (agentreach precommit --all-files --update-baseline, or gate "
                                     "--update-baseline) and commit it")
    if secrets_new and scheme is not None and baseline.scheme is not None and scheme != baseline.scheme:
        return GateResult(UNDECIDED, "the snapshot's file secrets were named with another salt than the "
                                     "baseline's, so none of them can be found there: scan with the baseline "
                                     "(gate --scan, or gate.baseline in the config naming this file)")
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
