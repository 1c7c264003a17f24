"""Submit a job folder through NVFlare's own FLARE API and print the job id (used by flare-poc).

Usage: submit_job.py <admin-kit-dir> <user> <job-folder> [--study S] [--num-rounds N] [--sleep-time S]
The folder is copied to a temporary directory and its ScatterAndGather num_rounds / NPTrainer
sleep_time are patched there; the original is never modified.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

from nvflare.fuel.flare_api.flare_api import new_secure_session


def patch(folder: str, num_rounds, sleep_time) -> None:
    server = os.path.join(folder, "app", "config", "config_fed_server.json")
    client = os.path.join(folder, "app", "config", "config_fed_client.json")
    if num_rounds is not None and os.path.isfile(server):
        with open(server) as f:
            cfg = json.load(f)
        for wf in cfg.get("workflows", []):
            if wf.get("path", "").endswith("ScatterAndGather"):
                wf.setdefault("args", {})["num_rounds"] = num_rounds
        with open(server, "w") as f:
            json.dump(cfg, f, indent=2)
    if sleep_time is not None and os.path.isfile(client):
        with open(client) as f:
            cfg = json.load(f)
        for ex in cfg.get("executors", []):
            if ex.get("executor", {}).get("path", "").endswith("NPTrainer"):
                ex["executor"].setdefault("args", {})["sleep_time"] = sleep_time
        with open(client, "w") as f:
            json.dump(cfg, f, indent=2)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("kit")
    p.add_argument("user")
    p.add_argument("folder")
    p.add_argument("--study", default="default")
    p.add_argument("--num-rounds", type=int, default=None)
    p.add_argument("--sleep-time", type=float, default=None)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        job = os.path.join(tmp, os.path.basename(os.path.normpath(a.folder)))
        shutil.copytree(a.folder, job)
        patch(job, a.num_rounds, a.sleep_time)
        sess = new_secure_session(a.user, a.kit, study=a.study, timeout=30)
        try:
            job_id = sess.submit_job(job)
        finally:
            sess.close()
    print(job_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
