"""The GCP estate (gcp/estate.yaml) as the records the GCP connector emits (connectors/gcp/
hierarchy.py, resources.py, iam_admin.py, policies.py): the organization, folder and project and
the bucket, secret and dataset as systems with their IAM policy in ``resource_policy`` and
``attrs.parent``, service accounts with their own policy in ``attrs.resource_policy``, each
predefined role a ``gcp_role`` policy with its includedPermissions, deny policies as
``gcp_deny_policy`` policies attached to a resource."""

from __future__ import annotations

import json
from typing import Any, Mapping

from agentreach.model import Identity, Policy, System, node_id

from .estate import HERE, Estate, escalations, expectations, read_yaml

SOURCE = PROVIDER = "gcp"


def roles() -> dict[str, Any]:
    return json.loads((HERE / "gcp" / "roles.json").read_text())


def load() -> Estate:
    data = read_yaml(HERE / "gcp" / "estate.yaml")
    estate = Estate(provider="gcp", raw=dict(data))
    org, folder, project = str(data["organization"]), str(data["folder"]), data["project"]
    email = {spec["id"]: f"{spec['id']}@{project}.iam.gserviceaccount.com" for spec in data["principals"]}
    names = {"organization": f"organizations/{org}", "folder": f"folders/{folder}", "project": f"projects/{project}"}
    used: set[str] = set()

    def policy(bindings: list[Mapping[str, Any]] | None) -> dict[str, Any]:
        out = []
        for b in bindings or []:
            used.add(b["role"])
            # a label is one of the estate's service accounts; anything else is a member as written
            # (specialGroup:projectReaders, the dataset ACL's basic-role groups)
            members = sorted(f"serviceAccount:{email[m]}" if m in email else m for m in b["members"])
            item: dict[str, Any] = {"role": b["role"], "members": members}
            if b.get("condition"):
                item["condition"] = dict(b["condition"])
            out.append(item)
        return {"version": 3, **({"bindings": out} if out else {})}

    hierarchy = (("organization", org, None), ("folder", folder, names["organization"]),
                 ("project", project, names["folder"]))
    for kind, short, parent in hierarchy:
        estate.nodes.append(System(
            id=node_id(PROVIDER, kind, short), provider=PROVIDER, source=SOURCE, type=f"gcp_{kind}", name=short,
            native_id=names[kind], account=org if kind != "project" else project,
            resource_policy=policy(data["bindings"].get(kind)),
            attrs={"parent": parent, "policy_readable": True,
                   **({"number": data["project_number"]} if kind == "project" else {})}))

    for label, spec in data["systems"].items():
        kind = spec["type"].removeprefix("gcp_")
        name = spec["name"]
        short, native = {
            "bucket": (name, f"projects/_/buckets/{name}"),
            "secret": (f"{project}/{name}", f"projects/{project}/secrets/{name}"),
            "bigquery_dataset": (f"{project}:{name}", f"projects/{project}/datasets/{name}"),
        }[kind]
        sid = node_id(PROVIDER, kind, short)
        estate.nodes.append(System(id=sid, provider=PROVIDER, source=SOURCE, type=spec["type"], name=name,
                                   native_id=native, account=project, resource_policy=policy(spec.get("bindings")),
                                   attrs={"parent": names["project"], "project": project, "policy_readable": True,
                                          "benchmark_label": label}))
        estate.systems[label] = sid

    on_accounts = data.get("service_account_bindings") or {}
    for spec in data["principals"]:
        label = spec["id"]
        attrs: dict[str, Any] = {"project": project, "benchmark_label": label,
                                 "resource_name": f"projects/{project}/serviceAccounts/{email[label]}"}
        if label in on_accounts:
            attrs["resource_policy"] = policy(on_accounts[label])
        sid = node_id(PROVIDER, "sa", email[label].lower())
        estate.nodes.append(Identity(id=sid, provider=PROVIDER, source=SOURCE, type="gcp_sa", name=label,
                                     native_id=email[label], account=project, attrs=attrs))
        estate.principals[label] = sid
        estate.why[label] = spec.get("why", "")

    for deny in data.get("deny_policies") or []:
        attached = names[deny["attached_to"]]
        rules = [{"description": r.get("description"),
                  "deniedPrincipals": [f"principal://iam.googleapis.com/projects/-/serviceAccounts/{email[m]}"
                                       for m in r["deniedPrincipals"]],
                  "exceptionPrincipals": [], "deniedPermissions": list(r["deniedPermissions"]),
                  "exceptionPermissions": [], "denialCondition": None} for r in deny["rules"]]
        point = attached.replace("/", "%2F")
        pid = f"policies/cloudresourcemanager.googleapis.com%2F{point}/denypolicies/{deny['name']}"
        estate.nodes.append(Policy(id=node_id(PROVIDER, "deny_policy", pid), provider=PROVIDER, source=SOURCE,
                                   type="gcp_deny_policy", name=deny["name"], native_id=pid, account=project,
                                   document={"rules": rules},
                                   attrs={"attachment_point": f"cloudresourcemanager.googleapis.com/{attached}",
                                          "attached_to": attached}))

    definitions = roles()
    for role in sorted(used):
        spec = definitions[role]
        estate.nodes.append(Policy(id=node_id(PROVIDER, "role", role), provider=PROVIDER, source=SOURCE,
                                   type="gcp_role", name=role, native_id=role,
                                   document={"includedPermissions": sorted(spec["includedPermissions"])},
                                   attrs={"title": spec.get("title"), "stage": spec.get("stage"), "custom": False,
                                          "benchmark_source": spec["source"], "filtered_to": spec.get("filtered_to")}))
    for spec in data["principals"]:
        expectations(estate, spec["id"], spec.get("expect"))
    escalations(estate, data.get("escalations"))
    return estate
