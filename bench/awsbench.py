"""What the AWS benches share: fake credentials that can never reach AWS, and a moto server
in this process (so a bench can seed it) behind the front door, which serves what moto lacks
and counts every request on the wire by operation."""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any, Iterator


def fake_aws_environment(region: str = "us-east-1") -> None:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": region, "AWS_CONFIG_FILE": "/dev/null",
                       "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}.items():
        os.environ[key] = value
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(key, None)


@contextlib.contextmanager
def moto_behind_front_door() -> Iterator[tuple[str, Any, str]]:
    """(moto's URL, the front door, the front door's URL): seed through the first, scan
    through the last, read the calls off the door."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from agentreach_testing.aws_frontdoor import AwsFrontDoor
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    moto_url = f"http://{host}:{port}"
    door = AwsFrontDoor(moto_url)
    url = door.start()
    door.serve_service_specific_credentials({})
    try:
        yield moto_url, door, url
    finally:
        door.stop()
        server.stop()
