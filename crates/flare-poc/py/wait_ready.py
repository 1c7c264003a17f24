"""Wait until a POC server answers admin logins and the given sites are connected (used by flare-poc).

Usage: wait_ready.py <admin-kit-dir> <user> <deadline-seconds> <site> [<site> ...]
Polls get_system_info until every site is connected or the deadline passes (exit 1).
"""

import sys
import time

from nvflare.fuel.flare_api.flare_api import new_secure_session


def main() -> int:
    kit, user, deadline = sys.argv[1], sys.argv[2], time.time() + float(sys.argv[3])
    sites = set(sys.argv[4:])
    last = "no attempt"
    sess = None
    while time.time() < deadline:
        try:
            if sess is None:
                sess = new_secure_session(user, kit, timeout=10)
            info = sess.get_system_info()
            connected = {c.name for c in info.client_info}
            if sites <= connected:
                sess.close()
                return 0
            last = f"connected sites: {sorted(connected)}"
        except Exception as e:  # the server may not accept logins yet
            last = repr(e)
            sess = None
        time.sleep(1.0)
    print(f"poc not ready before the deadline: {last}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
