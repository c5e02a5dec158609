"""Start the real `scheduler.py` (or any command of `make run`) as a process, for tests."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Process:
    """A child process whose output goes to a file (never a pipe that could fill up)."""

    def __init__(self, args: list[str], env: dict, log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._log,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log_path.read_text()

    def wait_for_output(self, text: str, timeout: float = 30) -> None:
        """Wait (bounded) until `text` appears in the output."""
        wait_until(lambda: text in self.output() or self.popen.poll() is not None, timeout,
                   f"'{text}' in the output of {self.popen.args}")
        assert text in self.output(), self.output()

    def stop(self, sig=signal.SIGINT, timeout: float = 30) -> int:
        """Send `sig`, wait for the exit; the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout)
        finally:
            if self.popen.poll() is None:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
            self._log.close()


def wait_until(condition, timeout: float, what: str, every: float = 0.2):
    """Poll `condition` until it returns something true (then return it), at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def scheduler_env(database_url: str, outbox: Path, **settings) -> dict:
    """The environment of a scheduler on `database_url` with 1-second intervals."""
    env = dict(os.environ, DATABASE_URL=database_url, OUTBOX_DIR=str(outbox), MAIL_SERVER="",
               SCHEDULER_BILLING_SECONDS="1", SCHEDULER_MAIL_SECONDS="1",
               SCHEDULER_JOBS_SECONDS="1", PYTHONUNBUFFERED="1")
    env.update({name: str(value) for name, value in settings.items()})
    return env


def start_scheduler(database_url: str, tmp_path: Path, **settings) -> Process:
    """The real scheduler process (`python scheduler.py`), as `make run` starts it."""
    outbox = tmp_path / "outbox"
    return Process([sys.executable, "scheduler.py"], scheduler_env(database_url, outbox, **settings),
                   tmp_path / "scheduler.log")
