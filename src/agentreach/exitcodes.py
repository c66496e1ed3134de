"""Exit codes: a public contract, documented in the README. CI scripts branch on them.

The scan's rule, in one line: nothing collected is 4, something collected with coverage
gaps is 3, everything collected is 0. "Collected" means a record read from a source; the
scope nodes a connector emits for the accounts it was asked to look into do not count, so a
scan whose every call was denied (or throttled past its retries) is a failure, not a
snapshot that makes the whole estate look deleted."""

OK = 0  # done, nothing to report
GATE_BLOCKED = 1  # `gate`: findings the gate policy blocks (reserved for the gate command)
USAGE = 2  # bad flags, bad config file, bad input (click uses 2 for usage errors too)
GAPS = 3  # completed, something was collected, but some calls failed: the report has coverage gaps
FAILED = 4  # nothing was collected (every connector saw nothing and a gap says why), or the store is unusable
NOT_FOUND = 5  # `show`: no object matches the ID given
