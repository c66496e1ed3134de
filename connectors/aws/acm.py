"""ACM certificates: expiry and what uses them. Certificates authenticate services, not IAM
principals, so they carry no ``authenticates`` edge; ``in_use_by`` says where they serve.

``GetCertificate`` returns the public certificate (PEM), never the private key: its SHA-1 and
SHA-256 thumbprints (``attrs.thumbprint_sha1`` / ``thumbprint_sha256``) let a certificate or
key found in a file be linked to this one (graph/link_edges.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

from agentreach.model import Credential, CredentialStatus, Record, node_id, parse_datetime

from .calls import ABSENT_CODES, AwsCalls
from .ids import SOURCE, tags_dict

# An Amazon-issued certificate still being validated has no body yet: not a gap.
NO_BODY = ABSENT_CODES | {"RequestInProgressException"}

# ListCertificates returns only RSA_2048 certificates unless every key type is asked for.
KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]


def get(calls: AwsCalls, region: str) -> list[dict[str, Any]]:
    out = []
    for summary in calls.paginate("acm", "ListCertificates", "CertificateSummaryList", region=region,
                                  Includes={"keyTypes": KEY_TYPES}, need=("CertificateArn",)):
        arn = summary["CertificateArn"]
        detail = calls.call("acm", "DescribeCertificate", region=region, CertificateArn=arn,
                            need=("Certificate.CertificateArn",))
        cert = dict((detail or {}).get("Certificate") or summary)
        tags = calls.call("acm", "ListTagsForCertificate", region=region, CertificateArn=arn)
        cert["Tags"] = (tags or {}).get("Tags", [])
        body = calls.call("acm", "GetCertificate", region=region, absent=NO_BODY, CertificateArn=arn)
        cert.update(thumbprints((body or {}).get("Certificate")))
        out.append(cert)
    return out


def transform(certs: list[dict[str, Any]], account: str, region: str, now: dt.datetime) -> Iterator[Record]:
    for cert in certs:
        not_after = parse_datetime(cert.get("NotAfter"))
        acm_status = cert.get("Status")
        if acm_status == "EXPIRED" or (not_after and not_after < now):
            status = CredentialStatus.EXPIRED
        elif acm_status == "ISSUED":
            status = CredentialStatus.ACTIVE
        else:
            status = CredentialStatus.DISABLED
        arn = cert["CertificateArn"]
        yield Credential(
            id=node_id("aws", "acm_certificate", arn), provider="aws", source=SOURCE,
            type="aws_acm_certificate", name=cert.get("DomainName") or arn.rsplit("/", 1)[-1],
            native_id=arn, account=account, region=region,
            created=parse_datetime(cert.get("ImportedAt") or cert.get("IssuedAt") or cert.get("CreatedAt")),
            expires=not_after, status=status, tags=tags_dict(cert.get("Tags")),
            rotation={"renewal_eligibility": cert.get("RenewalEligibility"),
                      "managed_renewal": cert.get("Type") == "AMAZON_ISSUED"},
            attrs={"acm_status": acm_status, "acm_type": cert.get("Type"),
                   "not_before": _iso(cert.get("NotBefore")),
                   "serial": cert.get("Serial"), "subject": cert.get("Subject"),
                   "issuer": cert.get("Issuer"), "key_algorithm": cert.get("KeyAlgorithm"),
                   "subject_alternative_names": cert.get("SubjectAlternativeNames", []),
                   "in_use_by": cert.get("InUseBy", []),
                   **{k: cert[k] for k in ("thumbprint_sha1", "thumbprint_sha256") if cert.get(k)}},
        )


def thumbprints(pem: object) -> dict[str, str]:
    """SHA-1 and SHA-256 of a PEM certificate's DER, upper-case hex (as Entra writes them);
    empty when there is no readable certificate."""
    if not isinstance(pem, str) or "BEGIN CERTIFICATE" not in pem:
        return {}
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    except ValueError:
        return {}
    return {"thumbprint_sha1": hashlib.sha1(der).hexdigest().upper(),
            "thumbprint_sha256": hashlib.sha256(der).hexdigest().upper()}


def _iso(value: object) -> str | None:
    parsed = parse_datetime(value) if isinstance(value, (str, dt.datetime)) else None
    return parsed.isoformat().replace("+00:00", "Z") if parsed else None
