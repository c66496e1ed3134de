"""Secrets in tags and free-text attributes are replaced by their preview before a record is
stored; what is left says where it was, which detector, and the salted fingerprint."""

from __future__ import annotations

import re

from agentreach.model import Identity
from agentreach.scrub import FOUND_ATTR, scrub

KEY = "sk-proj-" + "Qw3rTy9" * 6 + "T3BlbkFJ" + "Zx8" * 8
TOKEN = "ghp_" + "a1B2c3D4e5" * 3 + "zz9Y8x"


def scanner(text: str) -> list[tuple[str, str]]:
    return [("OpenAI Project Key", m) for m in re.findall(r"sk-proj-[A-Za-z0-9]{40,}", text)] + \
        [("GitHub Token", m) for m in re.findall(r"ghp_[A-Za-z0-9]{36}", text)]


def role(**kw: object) -> Identity:
    return Identity(id="aws:iam_role:r", provider="aws", source="aws", type="aws_iam_role", name="r", **kw)  # type: ignore[arg-type]


def test_a_tag_and_a_description_are_redacted_with_their_fingerprints() -> None:
    node = role(tags={"OPENAI_API_KEY": KEY, "team": "ml"},
                attrs={"description": f"runs the bot; token {TOKEN} for the repo", "trust_policy": {}})
    clean = scrub(node, [scanner], lambda v: "sha256:" + str(len(v)))
    text = repr(clean)
    assert KEY not in text and TOKEN not in text
    assert clean.tags["OPENAI_API_KEY"] == "sk-p…x8" and clean.tags["team"] == "ml"
    assert clean.attrs["description"] == "runs the bot; token ghp_…8x for the repo"
    found = {f["field"]: f for f in clean.attrs[FOUND_ATTR]}
    assert found["tags.OPENAI_API_KEY"]["detector"] == "OpenAI Project Key"
    assert found["attrs.description"]["fingerprint"] == f"sha256:{len(TOKEN)}"
    assert clean.attrs["trust_policy"] == {}


def test_nothing_found_is_the_same_record() -> None:
    node = role(tags={"team": "ml"}, attrs={"description": "no secret here"})
    assert scrub(node, [scanner], str) is node
    assert scrub(node, [], str) is node
