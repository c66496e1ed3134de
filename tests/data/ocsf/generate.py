"""Regenerate ``detection_finding-<version>.schema.json``: the JSON Schema of the OCSF Detection
Finding class (class_uid 2004) that tests/test_ocsf.py validates agentreach's OCSF output against.

Not run by the tests (it needs the OCSF schema repository and the OCSF schema compiler, which
needs Python 3.14); run it by hand when moving to a new OCSF release and commit its output:

    python3.14 -m venv /tmp/osc && /tmp/osc/bin/pip install ocsf-schema-compiler==1.1.1
    git clone https://github.com/ocsf/ocsf-schema && git -C ocsf-schema checkout 1.8.0
    /tmp/osc/bin/ocsf-schema-compiler -i ocsf-schema > /tmp/ocsf-compiled.json
    python tests/data/ocsf/generate.py /tmp/ocsf-compiled.json tests/data/ocsf

Two steps, each done by the OCSF project's own code, not by us:

1. ``ocsf-schema-compiler`` (the compiler ocsf-server 4 loads its schema from) resolves the
   repository's dictionary, ``extends``, ``$include``, profiles and the computed enums
   (``type_uid``) into one compiled schema; ``-i`` leaves out the platform extensions
   (linux, macos, windows), which agentreach never emits.
2. The class and the objects it references are encoded as JSON Schema draft-07 by a line-for-line
   port of ocsf-server's ``Schema.JsonSchema.encode`` (lib/schema/json_schema.ex), with the
   attributes filtered by profile as ``Schema.class_with_referenced_objects_filter_profiles``
   does: what ``GET /schema/classes/detection_finding?profiles=cloud,datetime`` serves.

The profiles are the two agentreach declares in ``metadata.profiles`` (Prowler's json-ocsf
declares the same): ``cloud`` (``cloud``, ``api``) and ``datetime`` (the ``*_dt`` siblings).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

CLASS = "detection_finding"
PROFILES = frozenset({"cloud", "datetime"})
SCHEMA_BASE_URI = "https://schema.ocsf.io/schema/classes"
DRAFT = "http://json-schema.org/draft-07/schema#"


def keep(attr: dict[str, Any]) -> bool:
    """utils.ex filter_attributes_by_profiles_set: no profile, or one of the requested."""
    profiles = attr.get("profiles")
    return not profiles or any(p in PROFILES for p in profiles)


def referenced(item: dict[str, Any], objects: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """schema.ex gather_referenced_objects: every object reachable from the item's attributes
    (over all of them, before the profile filter, as the server does)."""
    for attr in item.get("attributes", {}).values():
        name = attr.get("object_type")
        if name and name not in found:
            found[name] = objects[name]
            referenced(objects[name], objects, found)
    return found


def is_type(types: dict[str, Any], name: str, base: str) -> bool:
    """schema.ex data_type?: the type itself, or a dictionary type whose ``type`` is the base."""
    return name == base or (types.get(name) or {}).get("type") == base


def encode_type(types: dict[str, Any], name: str) -> str:
    for base, json_type in (("string_t", "string"), ("integer_t", "integer"), ("long_t", "integer"),
                            ("float_t", "number"), ("boolean_t", "boolean")):
        if is_type(types, name, base):
            return json_type
    return name


def encode_enum(schema: dict[str, Any], attr: dict[str, Any], type_: str, encoder: Any) -> dict[str, Any]:
    enum = attr.get("enum")
    if enum:
        values = sorted(encoder(k) for k in enum)
        if len(values) == 1:
            schema["const"] = values[0]
        else:
            schema["enum"] = values
    schema["type"] = type_
    return schema


def encode_attribute(attr: dict[str, Any], objects: dict[str, Any], types: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": attr.get("caption")}
    if attr["type"] == "object_t":
        schema["$ref"] = f"#/$defs/{attr['object_type'].replace('/', '_')}"
    elif attr["type"] == "integer_t":
        encode_enum(schema, attr, "integer", int)
    elif attr["type"] == "string_t":
        encode_enum(schema, attr, "string", str)
    elif attr["type"] == "json_t":
        pass
    else:
        schema["type"] = encode_type(types, attr["type"])
    if attr.get("is_array"):
        if "type" not in schema:
            items = {"$ref": schema.pop("$ref")}
        else:
            items = {"type": schema["type"]}
            if "enum" in schema:
                items["enum"] = schema.pop("enum")
        schema["type"] = "array"
        schema["items"] = items
    return schema


def encode_item(item: dict[str, Any], objects: dict[str, Any], types: dict[str, Any],
                defs: dict[str, Any] | None = None) -> dict[str, Any]:
    attributes = {k: a for k, a in item.get("attributes", {}).items() if keep(a)}
    constraints = item.get("constraints") or {}
    just_one = list(constraints.get("just_one") or [])
    at_least_one = list(constraints.get("at_least_one") or [])
    properties, required, one, least = {}, [], [], []
    for name in sorted(attributes, reverse=True):
        attr = attributes[name]
        if name in just_one:
            one.append(name)
        elif name in at_least_one:
            least.append(name)
        elif attr.get("requirement") == "required":
            required.append(name)
        properties[name] = encode_attribute(attr, objects, types)
    out: dict[str, Any] = ({"$schema": DRAFT, "$id": f"{SCHEMA_BASE_URI}/{item['name']}"}
                           if "uid" in item else {})
    out.update({"title": item.get("caption"), "type": "object", "properties": properties,
                "additionalProperties": False})
    if required:
        out["required"] = sorted(required)
    if one:
        out["oneOf"] = [{"required": [n], "not": {"required": [o for o in one if o != n]}} for n in one]
    if least:
        out["anyOf"] = [{"required": [n]} for n in least]
    if defs:
        out["$defs"] = {k.replace("/", "_"): encode_item(v, objects, types) for k, v in sorted(defs.items())}
    if not properties:
        out["additionalProperties"] = True
    return out


def main(compiled_path: str, out_dir: str) -> None:
    compiled = json.loads(Path(compiled_path).read_text(encoding="utf-8"))
    objects, types = compiled["objects"], compiled["dictionary"]["types"]["attributes"]
    cls = compiled["classes"][CLASS]
    schema = encode_item(cls, objects, types, defs=referenced(cls, objects, {}))
    version = compiled["version"]
    out = Path(out_dir) / f"{CLASS}-{version}.schema.json"
    text = json.dumps(schema, indent=1, sort_keys=True) + "\n"
    out.write_text(text, encoding="utf-8")
    print(f"{out} ({len(text)} bytes, sha256 {hashlib.sha256(text.encode()).hexdigest()}, "
          f"{len(schema.get('$defs', {}))} objects, compiled sha256 "
          f"{hashlib.sha256(Path(compiled_path).read_bytes()).hexdigest()})")


if __name__ == "__main__":
    main(*sys.argv[1:3])
