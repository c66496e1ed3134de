"""How a secret found in a file is named: in the local store, and where it leaves the machine.

Two names, for two audiences:

* **local** (``Store.fingerprint``): SHA-256 of the store's random salt and the value. Fast,
  keyed by a salt that never leaves the store (the store file is its owner's only), so the
  hash confirms nothing to anyone without the store. Kept as a file secret's ``fingerprint``
  and ``native_id``, for ``show sha256:…`` and ``reach -`` (a pasted secret, hashed once).
* **shared** (:class:`IdScheme`): scrypt of the value under a per-repository salt and cost
  parameters written in the repository's baseline file. It is the secret's identity, so the
  file secret's id, every finding's subject and fingerprint, the baseline's entries and SARIF's
  ``partialFingerprints`` are the same on every store, machine and clone that uses that
  baseline. Because the salt is public (it sits in the repository), confirming a guessed value
  costs one scrypt per guess: memory-hard, so a word list is paid for word by word, on CPUs and
  GPUs alike (``bench/baseline_kdf.py`` prints the cost and what a 10,000-word list takes).

Without a baseline, a scan names its secrets with a scheme of the store's own (a salt derived
from the store's private one, the configured cost), so names are stable across that store's
scans; ``--update-baseline`` writes the scheme a snapshot was named with into the baseline,
and scans that read it from then on name secrets the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Mapping

KDF = "scrypt"
PREFIX = "scrypt:"
# Bounds on what a baseline may ask for. Below the floor a guess is cheap again; above the
# ceiling a hostile baseline committed to a repository would make every hook run allocate
# gigabytes. OWASP's password-storage cheat sheet lists N=2^17, r=8, p=1 and its equals
# (2^16/2, 2^15/3, 2^14/5) as minimums for stored passwords; a found secret is usually a
# long random key, and the hook must answer in well under two seconds (bench/baseline_kdf.py).
MIN_N, MAX_N = 2**14, 2**20
MIN_R, MAX_R = 8, 32
MIN_P, MAX_P = 1, 16
MAX_MEMORY = 512 * 2**20  # bytes: 128 * r * n
SALT_BYTES = 16


@dataclass(frozen=True)
class IdScheme:
    """scrypt(value, salt, N=n, r, p) as ``scrypt:<hex>``: a secret's shared identity."""

    salt: str
    n: int = 2**15
    r: int = 8
    p: int = 1
    length: int = 32

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise ValueError(problem)

    @property
    def memory(self) -> int:
        """Bytes one derivation needs (scrypt's V array): what each guess costs an attacker too."""
        return 128 * self.r * self.n

    def identity(self, value: str) -> str:
        digest = hashlib.scrypt(value.encode("utf-8", "surrogatepass"), salt=bytes.fromhex(self.salt), n=self.n,
                                r=self.r, p=self.p, dklen=self.length, maxmem=self.memory + 2**21)
        return PREFIX + digest.hex()

    def to_dict(self) -> dict[str, Any]:
        return {"kdf": KDF, "n": self.n, "r": self.r, "p": self.p, "length": self.length, "salt": self.salt}

    @classmethod
    def from_dict(cls, data: Any) -> "IdScheme":
        """A scheme as a baseline writes it; ValueError saying what is wrong."""
        if not isinstance(data, Mapping) or data.get("kdf") != KDF:
            raise ValueError(f"fingerprints: expected {{kdf: {KDF}, n, r, p, salt}}")
        fields = {k: data.get(k) for k in ("n", "r", "p", "length") if k in data}
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in fields.values()):
            raise ValueError("fingerprints: n, r, p and length must be integers")
        if not isinstance(data.get("salt"), str):
            raise ValueError("fingerprints: salt must be a hex string")
        return cls(salt=data["salt"], **fields)

    @classmethod
    def new(cls, params: Mapping[str, int] | None = None) -> "IdScheme":
        """A scheme with a fresh random salt: a repository's first baseline."""
        return cls(salt=secrets.token_hex(SALT_BYTES), **dict(params or {}))

    @classmethod
    def of_store(cls, store_salt: str, params: Mapping[str, int] | None = None) -> "IdScheme":
        """The store's own scheme: its salt derived one-way from the store's private salt, so
        it may be published (in a baseline) without revealing the store's."""
        salt = hmac.new(store_salt.encode(), b"agentreach shared secret-id salt", hashlib.sha256).hexdigest()
        return cls(salt=salt[:2 * SALT_BYTES], **dict(params or {}))


def _problem(s: IdScheme) -> str | None:
    try:
        salt = bytes.fromhex(s.salt)
    except (TypeError, ValueError):
        return "fingerprints: salt must be a hex string"
    if len(salt) < SALT_BYTES:
        return f"fingerprints: salt must be at least {SALT_BYTES} bytes ({2 * SALT_BYTES} hex digits)"
    if s.n & (s.n - 1) or not MIN_N <= s.n <= MAX_N:
        return f"fingerprints: n must be a power of two from {MIN_N} to {MAX_N}"
    if not MIN_R <= s.r <= MAX_R or not MIN_P <= s.p <= MAX_P:
        return f"fingerprints: r must be {MIN_R}..{MAX_R} and p {MIN_P}..{MAX_P}"
    if s.memory > MAX_MEMORY:
        return f"fingerprints: 128 * r * n is over {MAX_MEMORY // 2**20} MiB"
    if not 16 <= s.length <= 64:
        return "fingerprints: length must be 16..64 bytes"
    return None
