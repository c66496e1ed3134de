"""GCP effective-permission evaluation over stored IAM policies, roles and deny policies (no
API calls): :mod:`.iam` evaluates, :mod:`.edges` is the reach deriver."""
