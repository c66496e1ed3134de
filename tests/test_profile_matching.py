"""Profile allow-lists matched as each cloud matches its own action names, on cases built
from the clouds' documentation (the source beside each case); the subsumption a granted
*pattern* needs (an Azure role's ``*/read``) agrees with IAM's matcher on names and never
says "covered" when some name the granted pattern stands for is not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from agentreach.policy.aws.matching import wildcard_match
from agentreach.profiles import action_covered, action_intersection, covers

AWS_ACTION = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html"
AZURE_DEFS = "https://learn.microsoft.com/en-us/azure/role-based-access-control/role-definitions"
AZURE_MAPS = "https://learn.microsoft.com/ko-kr/Azure/role-based-access-control/built-in-roles/web-and-mobile"
AZURE_COST = "https://azure-rbac-catalog.org/roles/72fafb9e-0641-4937-9268-a91bfd8191a3/cost-management-reader"
AZURE_CASE = "https://github.com/Azure/azure-powershell/issues/750"
GCP_PERMS = ("https://googleapis.dev/dotnet/Google.Apis.Storage.v1/1.44.1.1791/api/"
             "Google.Apis.Storage.v1.Data.TestIamPermissionsResponse.html")
GCP_ROLES = "https://cloud.google.com/java/docs/reference/google-cloud-storage/latest/com.google.cloud.storage.StorageRoles"

# (cloud, approved pattern, a granted or used action, covered?, source and what it says)
CASES = [
    # "The prefix and the action name are case insensitive. For example, iam:ListAccessKeys is
    # the same as IAM:listaccesskeys."
    ("aws", "iam:ListAccessKeys", "IAM:listaccesskeys", True, AWS_ACTION),
    # "the following Action element applies to all S3 actions: s3:*"
    ("aws", "s3:*", "s3:GetObject", True, AWS_ACTION),
    ("aws", "s3:*", "s3:getobjecttagging", True, AWS_ACTION),
    # "iam:*AccessKey*" applies to CreateAccessKey, DeleteAccessKey, ListAccessKeys, UpdateAccessKey
    ("aws", "iam:*AccessKey*", "iam:CreateAccessKey", True, AWS_ACTION),
    ("aws", "iam:*AccessKey*", "iam:UpdateAccessKey", True, AWS_ACTION),
    ("aws", "iam:*AccessKey*", "iam:CreateUser", False, AWS_ACTION),
    # multi-character * and single-character ? wildcards
    ("aws", "s3:Get*", "s3:GetObject", True, AWS_ACTION),
    ("aws", "s3:Get*", "s3:PutObject", False, AWS_ACTION),
    ("aws", "s3:?etObject", "s3:GetObject", True, AWS_ACTION),
    ("aws", "s3:?etObject", "s3:GetObjectAcl", False, AWS_ACTION),
    # the service prefix is part of the name: s3:* says nothing about s3express or sqs
    ("aws", "s3:*", "s3express:CreateSession", False, AWS_ACTION),
    # Reader's "*/read" (every read) and Cost Management Reader's "Microsoft.CostManagement/*/read"
    ("azure", "*/read", "Microsoft.Storage/storageAccounts/read", True, AZURE_DEFS),
    ("azure", "*/read", "Microsoft.Storage/storageAccounts/write", False, AZURE_DEFS),
    ("azure", "Microsoft.CostManagement/*/read", "Microsoft.CostManagement/exports/read", True, AZURE_COST),
    ("azure", "Microsoft.CostManagement/*/read", "Microsoft.CostManagement/exports/write", False, AZURE_COST),
    # "Microsoft.CostManagement/*/query/*": the first * spans the resource types under the provider
    ("azure", "Microsoft.CostManagement/*/query/*", "Microsoft.CostManagement/externalSubscriptions/query/action",
     True, AZURE_DEFS),
    # Storage Blob Data Reader's data action, and Azure Maps Data Reader's "Microsoft.Maps/accounts/*/read"
    ("azure", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
     "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", True, AZURE_DEFS),
    ("azure", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
     "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write", False, AZURE_DEFS),
    ("azure", "Microsoft.Maps/accounts/*/read", "Microsoft.Maps/accounts/data/read", True, AZURE_MAPS),
    # ARM matches provider operations without regard to case (microsoft.storage* finds MICROSOFT.STORAGE's),
    # which is how agentreach stores Azure grants (lower case).
    ("azure", "Microsoft.Storage/*", "microsoft.storage/storageaccounts/listkeys/action", True, AZURE_CASE),
    # GCP: "Permissions are always of the format storage.resource.capability"
    ("gcp", "storage.objects.get", "storage.objects.get", True, GCP_PERMS),
    ("gcp", "storage.objects.get", "storage.objects.list", False, GCP_PERMS),
    # roles/storage.admin "Grants the following permissions: storage.buckets.*, storage.objects.*"
    ("gcp", "storage.objects.*", "storage.objects.delete", True, GCP_ROLES),
    ("gcp", "storage.objects.*", "storage.buckets.delete", False, GCP_ROLES),
    # GCP documents no case folding: names are compared as GCP lists them
    ("gcp", "bigquery.tables.getData", "bigquery.tables.getdata", False, GCP_PERMS),
]


@pytest.mark.parametrize("cloud, pattern, action, expected, source", CASES)
def test_documented_action_matching(cloud: str, pattern: str, action: str, expected: bool, source: str) -> None:
    assert source.startswith("https://")
    assert (action_covered([pattern], action, cloud) is not None) is expected


# (cloud, approved, granted pattern, approved covers every name granted stands for?)
SUBSUMPTION = [
    ("aws", "s3:*", "s3:Get*", True),
    ("aws", "s3:Get*", "s3:*", False),          # s3:* also grants PutObject
    ("aws", "s3:Get*", "s3:GetObject*", True),
    ("azure", "*/read", "Microsoft.KeyVault/*/read", True),
    ("azure", "Microsoft.KeyVault/*/read", "*/read", False),  # Reader reads every provider
    ("azure", "Microsoft.KeyVault/*", "microsoft.keyvault/vaults/*/read", True),
]


@pytest.mark.parametrize("cloud, approved, granted, expected", SUBSUMPTION)
def test_a_granted_pattern_is_within_only_when_covered_entirely(cloud: str, approved: str, granted: str,
                                                               expected: bool) -> None:
    assert (action_covered([approved], granted, cloud) is not None) is expected


def test_the_intersection_never_exceeds_either_side() -> None:
    # Reader's */read against a profile that approves reading one vault's metadata: the profile's name stays.
    assert action_intersection(["Microsoft.KeyVault/vaults/read"], ["*/read"], "azure") == [
        "Microsoft.KeyVault/vaults/read"]
    # s3:Get* approved, s3:GetObject and s3:PutObject granted: only GetObject
    assert action_intersection(["s3:Get*"], ["s3:GetObject", "s3:PutObject"], "aws") == ["s3:GetObject"]
    # partial overlaps (s3:Get* and s3:*Object) are left out rather than guessed
    assert action_intersection(["s3:Get*"], ["s3:*Object"], "aws") == []


NAME = st.text(alphabet="abAB:", min_size=0, max_size=8)
PATTERN = st.text(alphabet="abAB:*?", min_size=0, max_size=8)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(PATTERN, NAME)
def test_on_names_covers_is_iams_matcher(pattern: str, name: str) -> None:
    assert covers(pattern, name) == wildcard_match(pattern, name, case_sensitive=False)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(PATTERN, PATTERN, NAME)
def test_subsumption_is_sound(approved: str, granted: str, name: str) -> None:
    """Whatever name the granted pattern stands for, a covering approved pattern matches it too."""
    if covers(approved, granted) and wildcard_match(granted, name, case_sensitive=False):
        assert wildcard_match(approved, name, case_sensitive=False)
