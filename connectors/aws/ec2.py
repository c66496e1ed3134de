"""EC2 instances that carry an instance profile: each runs as the profile's role. Instances
without a profile hold no AWS identity and are left out."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from agentreach.model import Edge, EdgeKind, Record, Workload, node_id, parse_datetime

from .calls import AwsCalls
from .ids import SOURCE, role_id, tags_dict


def get(calls: AwsCalls, region: str) -> list[dict[str, Any]]:
    out = []
    for reservation in calls.paginate("ec2", "DescribeInstances", "Reservations", region=region):
        for inst in calls.keep(reservation.get("Instances") or [], ("InstanceId",), "ec2", "DescribeInstances",
                               region):
            if inst.get("IamInstanceProfile"):
                out.append(inst)
    return out


def transform(instances: list[dict[str, Any]], account: str, region: str,
              profile_roles: Mapping[str, list[str]]) -> Iterator[Record]:
    for inst in instances:
        iid = inst["InstanceId"]
        arn = f"arn:aws:ec2:{region}:{account}:instance/{iid}"
        profile = inst["IamInstanceProfile"].get("Arn", "")
        tags = tags_dict(inst.get("Tags"))
        wid = node_id("aws", "ec2_instance", arn)
        yield Workload(
            id=wid, provider="aws", source=SOURCE, type="aws_ec2_instance", name=tags.get("Name", iid),
            native_id=arn, account=account, region=region, created=parse_datetime(inst.get("LaunchTime")),
            tags=tags,
            attrs={"instance_id": iid, "state": (inst.get("State") or {}).get("Name"),
                   "instance_profile_arn": profile, "image_id": inst.get("ImageId"),
                   "instance_type": inst.get("InstanceType")},
        )
        for role_arn in profile_roles.get(profile, []):
            yield Edge(src=wid, dst=role_id(role_arn), kind=EdgeKind.RUNS_AS, source=SOURCE,
                       attrs={"via": f"instance profile {profile}"})


def region_names(calls: AwsCalls) -> list[str] | None:
    """Regions enabled for the account (opted-in or not requiring opt-in)."""
    resp = calls.call("ec2", "DescribeRegions", AllRegions=False)
    if resp is None:
        return None
    return sorted(r["RegionName"] for r in calls.keep(resp.get("Regions") or [], ("RegionName",), "ec2",
                                                      "DescribeRegions"))
