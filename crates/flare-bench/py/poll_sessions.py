"""One FLARE API Session polling like a notebook or CLI watcher (used by flare-bench).

Usage: poll_sessions.py <admin-kit-dir> <user> <interval-seconds> [<sessions>]
Opens <sessions> (default 1) sessions, prints "READY" once all are logged in, then each calls
list_jobs + get_system_info every <interval> seconds until stdin closes; then logs out and exits.
"""

import sys
import threading
import time

from nvflare.fuel.flare_api.flare_api import new_secure_session


def poll(sess, interval, stop, errors):
    next_at = time.monotonic()
    while not stop.is_set():
        try:
            sess.list_jobs()
            sess.get_system_info()
        except Exception as e:  # count and keep polling, as a watcher would
            errors.append(repr(e))
        next_at += interval
        stop.wait(max(0.0, next_at - time.monotonic()))


def main() -> int:
    kit, user, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    sessions = [new_secure_session(user, kit, timeout=30) for _ in range(count)]
    stop = threading.Event()
    errors = []
    threads = [
        threading.Thread(target=poll, args=(s, interval, stop, errors), daemon=True)
        for s in sessions
    ]
    print("READY", flush=True)
    for t in threads:
        t.start()
    sys.stdin.read()  # until the benchmark closes stdin
    stop.set()
    for t in threads:
        t.join(timeout=10)
    for s in sessions:
        try:
            s.close()
        except Exception:
            pass
    print(f"DONE errors={len(errors)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
