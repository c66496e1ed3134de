"""Azure effective-permission evaluation over stored role definitions, assignments and deny
assignments (no API calls): :mod:`.rbac` evaluates, :mod:`.edges` is the reach deriver."""
