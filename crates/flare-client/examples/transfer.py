"""The Python side of scripts/bench-transfer.sh: job upload (submit_job) and download
(download_job_result) with nvflare's own FLARE API, printed as one JSON line like
examples/transfer.rs.

Usage: transfer.py <admin-kit-dir> <job-folder> [iterations]
"""

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time

from nvflare.fuel.flare_api.flare_api import new_secure_session


def dir_bytes(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def main() -> int:
    kit, folder = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    user = kit.rstrip("/").split("/")[-1]
    with contextlib.redirect_stdout(io.StringIO()):
        sess = new_secure_session(user, kit, timeout=60)
    sess.set_timeout(60)
    # push_folder signs the folder in place: measure the bytes before it does.
    up_bytes = dir_bytes(folder)
    best_up = best_down = float("inf")
    down_bytes = 0
    for _ in range(n):
        t = time.perf_counter()
        job_id = sess.submit_job(folder)
        best_up = min(best_up, time.perf_counter() - t)
        sess.abort_job(job_id)
        deadline = time.time() + 300
        while not sess.get_job_status(job_id).startswith("FINISHED"):
            if time.time() > deadline:
                raise RuntimeError(f"job {job_id} did not finish")
            time.sleep(0.3)
        dest = tempfile.mkdtemp(prefix="flare-transfer-py-")
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            path = sess.download_job_result(job_id, destination=dest)
        best_down = min(best_down, time.perf_counter() - t)
        down_bytes = dir_bytes(path)
        shutil.rmtree(dest, ignore_errors=True)
        sess.delete_job(job_id)
    sess.close()
    print(json.dumps({
        "client": "python",
        "upload_bytes": up_bytes,
        "upload_s": round(best_up, 3),
        "download_bytes": down_bytes,
        "download_s": round(best_down, 3),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
