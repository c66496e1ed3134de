"""Exit codes: a public contract, documented in the README. CI scripts branch on them."""

OK = 0  # done, nothing to report
GATE_BLOCKED = 1  # `gate`: findings the gate policy blocks (reserved for the gate command)
USAGE = 2  # bad flags, bad config file, bad input (click uses 2 for usage errors too)
GAPS = 3  # completed, but some calls failed: the report has coverage gaps
FAILED = 4  # the scan could not complete (no source could be read, store unusable)
NOT_FOUND = 5  # `show`: no object matches the ID given
