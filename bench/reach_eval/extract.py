"""How the benchmark's vendor documents were made: copied, untouched, from public repositories
that track them, with the repository, path and commit recorded beside every document.

- AWS managed policies: the default version of each policy from zoph-io/MAMIP ("Monitor AWS
  Managed IAM Policies", a daily copy of `iam get-policy-version`), ``policies/<Name>``.
- Azure built-in role definitions: iann0036/iam-dataset ``azure/built-in-roles-raw.json`` (the
  roleDefinitions as ARM returns them).
- GCP predefined roles: iann0036/iam-dataset ``gcp/roles/<role>.json`` (``roles.get`` output).
  The basic roles hold 6,000 to 13,500 permissions; only those of the services the estate holds
  are kept (``GCP_SERVICES``), which changes no answer about those services' resources.

Run it with local mirrors of those repositories (git directories) to refresh the data files:

    python bench/reach_eval/extract.py --mamip DIR --iam-dataset DIR
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
AWS_POLICIES = (
    "AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "ViewOnlyAccess", "SecurityAudit",
    "AmazonS3ReadOnlyAccess", "AmazonS3FullAccess", "AmazonDynamoDBReadOnlyAccess", "SecretsManagerReadWrite",
    "AWSKeyManagementServicePowerUser", "IAMFullAccess", "IAMReadOnlyAccess", "DatabaseAdministrator",
    "DataScientist", "AWSLambda_FullAccess",
)
AZURE_ROLES = (
    "Reader", "Contributor", "Owner", "User Access Administrator", "Storage Blob Data Reader",
    "Storage Blob Data Contributor", "Storage Account Contributor", "Reader and Data Access",
    "Storage Account Key Operator Service Role", "Key Vault Reader", "Key Vault Secrets User",
    "Key Vault Secrets Officer", "Key Vault Administrator", "Key Vault Contributor", "Key Vault Crypto User",
)
GCP_ROLES = (
    "viewer", "editor", "owner", "storage.objectViewer", "storage.legacyBucketReader", "storage.admin",
    "bigquery.metadataViewer", "bigquery.dataViewer", "bigquery.dataEditor", "bigquery.dataOwner",
    "secretmanager.viewer", "secretmanager.secretAccessor",
    "iam.serviceAccountUser", "iam.serviceAccountTokenCreator", "iam.serviceAccountKeyAdmin",
    "iam.serviceAccountViewer", "iam.securityReviewer", "resourcemanager.projectIamAdmin",
    "compute.instanceAdmin.v1",
)
GCP_SERVICES = ("storage.", "bigquery.", "secretmanager.", "iam.", "resourcemanager.", "compute.instances.")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


def provenance(repo: Path, name: str, path: str) -> dict[str, str]:
    commit, date = git(repo, "log", "-1", "--format=%H %cI", "--", path).split()
    return {"repository": name, "path": path, "commit": commit, "date": date}


def aws(mamip: Path) -> dict[str, Any]:
    out = {}
    for name in AWS_POLICIES:
        path = f"policies/{name}"
        version = json.loads(git(mamip, "show", f"HEAD:{path}"))["PolicyVersion"]
        out[name] = {"arn": f"arn:aws:iam::aws:policy/{name}", "version": version["VersionId"],
                     "source": provenance(mamip, "zoph-io/MAMIP", path), "document": version["Document"]}
    return out


def azure(dataset: Path) -> dict[str, Any]:
    path = "azure/built-in-roles-raw.json"
    roles = {r["roleName"]: r for r in json.loads(git(dataset, "show", f"HEAD:{path}"))}
    source = provenance(dataset, "iann0036/iam-dataset", path)
    return {name: {**roles[name], "source": source} for name in AZURE_ROLES}


def gcp(dataset: Path) -> dict[str, Any]:
    out = {}
    for role in GCP_ROLES:
        path = f"gcp/roles/{role}.json"
        data = json.loads(git(dataset, "show", f"HEAD:{path}"))
        perms = data["includedPermissions"]
        kept = [p for p in perms if p.startswith(GCP_SERVICES)]
        out[f"roles/{role}"] = {"title": data.get("title"), "stage": data.get("stage"),
                                "includedPermissions": kept, "permissions_in_role": len(perms),
                                "filtered_to": list(GCP_SERVICES) if len(kept) != len(perms) else None,
                                "source": provenance(dataset, "iann0036/iam-dataset", path)}
    return out


def write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mamip", type=Path, required=True, help="git dir of zoph-io/MAMIP")
    parser.add_argument("--iam-dataset", type=Path, required=True, help="git dir of iann0036/iam-dataset")
    args = parser.parse_args()
    write(HERE / "aws" / "managed_policies.json", aws(args.mamip))
    write(HERE / "azure" / "roles.json", azure(args.iam_dataset))
    write(HERE / "gcp" / "roles.json", gcp(args.iam_dataset))


if __name__ == "__main__":
    main()
