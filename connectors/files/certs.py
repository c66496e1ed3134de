"""PEM blocks: X.509 certificates (public: subject, issuer, expiry, thumbprints) and private
keys (secret: fingerprinted by their normalised body, matched to a certificate in the same
file by public key)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

# Also matches PEM inside JSON strings, where newlines are written as "\n".
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


@dataclass(frozen=True)
class PemBlock:
    label: str
    line: int  # 1-based line of BEGIN
    body: str  # base64 body, whitespace and escaped newlines removed
    text: str  # the block, real newlines


def pem_blocks(text: str) -> list[PemBlock]:
    out = []
    for m in _PEM.finditer(text):
        raw_body = m.group(2)
        body = re.sub(r"(\\n|\\r|\s)+", "", raw_body)
        # keep headers like Proc-Type out of the body used for the fingerprint
        body = body.split("DEK-Info:")[-1] if "DEK-Info:" in body else body
        label = m.group(1)
        lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
        out.append(PemBlock(label, text.count("\n", 0, m.start()) + 1, body,
                            f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"))
    return out


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    sha1: str
    sha256: str
    serial: str
    public_key: bytes


def parse_certificate(block: PemBlock) -> CertInfo | None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(block.text.encode())
    except Exception:  # noqa: BLE001 - not a certificate we can read
        return None
    der = cert.public_bytes(serialization.Encoding.DER)
    return CertInfo(
        subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        sha1=hashlib.sha1(der).hexdigest().upper(), sha256=hashlib.sha256(der).hexdigest().upper(),
        serial=format(cert.serial_number, "X"),
        public_key=cert.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo),
    )


def private_key_public_bytes(block: PemBlock) -> bytes | None:
    """SubjectPublicKeyInfo of an unencrypted private key (None when encrypted or unreadable)."""
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(block.text.encode(), password=None)
        return key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    except Exception:  # noqa: BLE001
        return None
