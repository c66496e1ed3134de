"""The independent owner and stale benchmark: cases translated from other scanners' labelled
tests and queries (Prowler, Steampipe/Powerpipe mods, ScoutSuite, GraphTools) and from the
clouds' documented semantics, each with its provenance.

``load.build(case)`` turns one case's API-shaped answers into the records our connectors emit
(running the connectors' own pure transforms), at the case's own ``now``.
"""
