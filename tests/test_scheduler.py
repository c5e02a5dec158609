"""The scheduler process starts, runs its billing job, logs, and stops cleanly on Ctrl-C."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_scheduler_starts_logs_and_stops_on_sigint(app, db):
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    process = subprocess.Popen([sys.executable, "scheduler.py"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        output.append(line)
        if "Billing job at" in line:
            break
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    log = "".join(output) + rest
    assert process.returncode == 0, log
    assert "Scheduler started" in log
    assert "invoice(s) created" in log
    assert "Scheduler stopped" in log
    assert "Traceback" not in log
