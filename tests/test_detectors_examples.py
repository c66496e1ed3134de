"""Every detector entry of config/secret-detectors.yaml that carries ``examples`` /
``negative_examples`` is run on them, as Nosey Parker and Kingfisher run their rules' examples:
each example must give a hit of that detector, each negative example must not. Values are
templates ({hex:32}, {alnum:40} …) filled from a fixed seed, so no real-looking key is committed."""

from __future__ import annotations

import random
import re
import string

import pytest
from agentreach_connectors.files.detectors import Scanner, detectors_file, load_specs

ALPHABETS = {
    "hex": "0123456789abcdef", "alnum": string.ascii_letters + string.digits, "lower": string.ascii_lowercase
    + string.digits, "upper": string.ascii_uppercase, "digits": string.digits, "b32": "abcdefghijklmnopqrstuvwxyz234567",
    "b64": string.ascii_letters + string.digits + "+/", "an_": string.ascii_letters + string.digits + "_-",
}
_SLOT = re.compile(r"\{(uuid|[a-z0-9_]+):?(\d*)\}")


def fill(template: str, rng: random.Random) -> str:
    """A template with each {alphabet:n} slot replaced by n random characters of that alphabet."""
    def one(m: re.Match[str]) -> str:
        if m.group(1) == "uuid":
            return "-".join("".join(rng.choice(ALPHABETS["hex"]) for _ in range(n)) for n in (8, 4, 4, 4, 12))
        return "".join(rng.choice(ALPHABETS[m.group(1)]) for _ in range(int(m.group(2))))
    return _SLOT.sub(one, template)


RAW = {d["id"]: d for d in detectors_file()["detectors"]}
SPECS = [s for s in load_specs() if RAW[s.id].get("examples") or RAW[s.id].get("negative_examples")]


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner()


def types_found(scanner: Scanner, text: str, filename: str = "settings.env") -> set[str]:
    return {h.secret_type for h in scanner.scan_text(filename, text + "\n")}


def test_the_issue_kinds_have_examples() -> None:
    with_examples = {s.id for s in SPECS if RAW[s.id].get("examples")}
    for kind in ("aws-secret-access-key", "aws-session-token", "atlassian-api-token", "datadog-key", "pinecone-legacy-key",
                 "rails-master-key", "sentry-token", "twilio-auth-token", "connection-string-password",
                 "openai-plugin-verification-token"):
        assert kind in with_examples, kind
    for spec in SPECS:
        assert RAW[spec.id].get("examples") and RAW[spec.id].get("negative_examples"), spec.id


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_examples_are_found(scanner: Scanner, spec) -> None:
    rng = random.Random(spec.id)
    for template in RAW[spec.id]["examples"]:
        text = fill(template, rng)
        found = types_found(scanner, text)
        # a generic detector's hit may be taken over by a typed one on the same value
        typed = spec.generic and any(t not in scanner.generic for t in found)
        assert spec.secret_type in found or typed, (spec.id, template, found)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_negative_examples_are_not(scanner: Scanner, spec) -> None:
    rng = random.Random(spec.id + "-")
    for template in RAW[spec.id]["negative_examples"]:
        found = types_found(scanner, fill(template, rng))
        assert spec.secret_type not in found, (spec.id, template, found)


def test_fill_is_deterministic_and_sized() -> None:
    a, b = fill("k={hex:32}-{uuid}", random.Random(1)), fill("k={hex:32}-{uuid}", random.Random(1))
    assert a == b and re.fullmatch(r"k=[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", a)
