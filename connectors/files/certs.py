"""PEM blocks: X.509 certificates (public: subject, issuer, expiry, thumbprints) and private
keys (secret: fingerprinted by their normalised body, matched to a certificate in the same
file by public key)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

# Also matches PEM inside JSON strings, where newlines are written as "\n". The END line is
# looked for with str.find within MAX_PEM characters of its BEGIN (a regex ``.*?`` up to a
# backreference is quadratic on a file of BEGIN lines with no END).
_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,64})-----")
MAX_PEM = 65536


@dataclass(frozen=True)
class PemBlock:
    label: str
    line: int  # 1-based line of BEGIN
    body: str  # base64 body, whitespace and escaped newlines removed
    text: str  # the block, real newlines


def pem_blocks(text: str) -> list[PemBlock]:
    out = []
    pos, line, counted = 0, 1, 0
    while (m := _BEGIN.search(text, pos)) is not None:
        label = m.group(1)
        end_marker = f"-----END {label}-----"
        end = text.find(end_marker, m.end(), m.end() + MAX_PEM + len(end_marker))
        if end < 0:
            pos = m.end()
            continue
        body = re.sub(r"(\\n|\\r|\s)+", "", text[m.end():end])
        # keep headers like Proc-Type out of the body used for the fingerprint
        body = body.split("DEK-Info:")[-1] if "DEK-Info:" in body else body
        lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
        line += text.count("\n", counted, m.start())
        counted = m.start()
        out.append(PemBlock(label, line, body, f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"))
        pos = end + len(end_marker)
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


def base64_pem_blocks(value: str) -> list[PemBlock]:
    """The PEM blocks inside one more layer of base64 (a Kubernetes TLS Secret's ``tls.key``),
    so such a key is fingerprinted by the same body as its plain PEM form; [] when the value
    does not decode to PEM text."""
    import base64
    import binascii

    try:
        text = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return []
    return pem_blocks(text)
