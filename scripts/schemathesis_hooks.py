"""Schemathesis hooks for scripts/schemathesis.sh.

A consume call long-polls up to `wait_ms` (default 10 s) when nothing is due, which is
right for consumers and a waste of a fuzzing run: valid waits are cut to 200 ms, and an
absent or null one is set to 0. Invalid values are left alone, so their refusal is still
checked.
"""

import schemathesis


@schemathesis.hook
def before_call(context, case, **kwargs):
    if not case.path.endswith("/consume") or not isinstance(case.body, dict):
        return
    wait = case.body.get("wait_ms")
    if wait is None:
        case.body["wait_ms"] = 0
    elif isinstance(wait, int) and not isinstance(wait, bool) and 200 < wait <= 60000:
        case.body["wait_ms"] = 200
