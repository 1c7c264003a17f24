"""The Python side of scripts/bench-client.sh: login time and list_jobs round trip with nvflare's
own FLARE API (new_secure_session), printed as one JSON line like examples/compare.rs.

Usage: compare.py <admin-kit-dir> [iterations]
"""

import contextlib
import io
import json
import statistics
import sys
import time

from nvflare.fuel.flare_api.flare_api import new_secure_session


def main() -> int:
    kit = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    user = kit.rstrip("/").split("/")[-1]
    logins = []
    sess = None
    for _ in range(3):
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            s = new_secure_session(user, kit)
        logins.append((time.perf_counter() - t) * 1000.0)
        if sess is not None:
            sess.close()
        sess = s
    rtts = []
    jobs = 0
    for _ in range(n):
        t = time.perf_counter()
        jobs = len(sess.list_jobs())
        rtts.append((time.perf_counter() - t) * 1000.0)
    sess.close()
    print(json.dumps({
        "client": "python",
        "login_ms": [round(x, 2) for x in logins],
        "login_median_ms": round(statistics.median(logins), 2),
        "list_jobs_median_ms": round(statistics.median(rtts), 2),
        "iterations": n,
        "jobs": jobs,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
