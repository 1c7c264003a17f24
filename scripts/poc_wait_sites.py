"""Waits until the named sites are connected to a POC server, through nvflare's own FLARE API.

usage: poc_wait_sites.py ADMIN_KIT_DIR DEADLINE_SECONDS SITE...
"""

import sys
import time

from nvflare.fuel.flare_api.flare_api import new_secure_session


def main() -> int:
    kit, limit = sys.argv[1], float(sys.argv[2])
    want = set(sys.argv[3:])
    deadline = time.monotonic() + limit
    sess = None
    have: set[str] = set()
    last_error = ""
    while time.monotonic() < deadline:
        try:
            if sess is None:
                sess = new_secure_session(
                    "admin@nvidia.com", kit, timeout=max(1.0, deadline - time.monotonic())
                )
            have = {c.name for c in sess.get_system_info().client_info}
            if want <= have:
                print("sites connected: " + ", ".join(sorted(have)))
                sess.close()
                return 0
        except Exception as e:  # the server may still be starting: poll again until the deadline
            last_error = str(e)
            sess = None
        time.sleep(1)
    print(
        f"timed out after {limit:.0f}s: connected sites {sorted(have)}, wanted {sorted(want)}"
        + (f" (last error: {last_error})" if last_error else ""),
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
