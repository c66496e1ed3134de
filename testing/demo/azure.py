"""The demo's Azure tenant: ``azure_estate.yaml`` served by the TLS fake in this process.

:func:`demo_tenant` starts :class:`agentreach_testing.azure_fake.AzureFake` with the estate
(dates made relative to ``now``) and yields the ``connectors.azure`` config section that
points the ordinary Azure connector at it. The connector signs in with the real
``CertificateCredential`` using a throw-away client certificate, so no environment
variable and no secret is involved, and nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

import yaml

DEMO_CLIENT_ID = "d3d3d3d3-0000-4000-8000-0000000000d3"
_RELATIVE = re.compile(r"^@now(?:([+-]\d+)([dhm]))?$")


def load_estate(now: dt.datetime) -> dict[str, Any]:
    """The shipped estate with every ``@now±N[dhm]`` turned into an ISO timestamp."""
    text = resources.files("agentreach_testing.demo").joinpath("azure_estate.yaml").read_text(encoding="utf-8")
    return _resolve(yaml.safe_load(text), now)


def _resolve(value: Any, now: dt.datetime) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, now) for v in value]
    if isinstance(value, str):
        m = _RELATIVE.match(value)
        if m:
            n, unit = int(m.group(1) or 0), m.group(2) or "d"
            delta = {"d": dt.timedelta(days=n), "h": dt.timedelta(hours=n), "m": dt.timedelta(minutes=n)}[unit]
            return (now + delta).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _client_certificate(directory: Path) -> Path:
    """A PEM holding a private key and its self-signed certificate, as CertificateCredential reads it."""
    from ..azure_fake import make_self_signed

    cert, key = make_self_signed(directory, "agentreach-demo-client")
    bundle = directory / "demo-client.pem"
    bundle.write_bytes(key.read_bytes() + cert.read_bytes())
    return bundle


@contextmanager
def demo_tenant(now: dt.datetime) -> Iterator[dict[str, Any]]:
    """Serve the demo tenant; yield the config to put under ``connectors.azure``."""
    from ..azure_fake import AzureFake

    estate = load_estate(now)
    fake = AzureFake(estate, page_size=3)
    url = fake.start()
    try:
        with tempfile.TemporaryDirectory(prefix="agentreach-demo-azure-") as tmp:
            yield {
                "tenant_id": fake.tenant_id, "credential": "certificate", "client_id": DEMO_CLIENT_ID,
                "certificate_path": str(_client_certificate(Path(tmp))), "authority_host": url,
                "graph_endpoint": url, "arm_endpoint": url, "ca_bundle": str(fake.ca_path),
                "max_attempts": 3, "timeout": 10, "max_retry_after": 1, "workers": 2,
            }
    finally:
        fake.stop()
