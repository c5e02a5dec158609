"""Sending MIME messages in parallel at a bounded rate: a few SMTP connections, each kept
open for the whole batch (one per thread), and a shared pace of `per_minute` messages."""
from __future__ import annotations

import smtplib
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path


class RatePace:
    """At most `per_minute` starts a minute, evenly spaced, shared by every thread."""

    def __init__(self, per_minute: int):
        self.interval = 60.0 / max(per_minute, 1)
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait_turn(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class MailSender:
    """`submit(message)` sends in one of `connections` threads; `close()` waits and quits.

    Needs no app: it gets the mail settings (MAIL_SERVER ... OUTBOX_DIR) as a dict.
    """

    def __init__(self, config: dict, per_minute: int, connections: int):
        self.config = config
        self.pace = RatePace(per_minute)
        self._local = threading.local()
        self._opened: list[smtplib.SMTP] = []
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(max(connections, 1), thread_name_prefix="mail")

    def submit(self, message: EmailMessage) -> Future:
        return self._threads.submit(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        self.pace.wait_turn()
        if not self.config["MAIL_SERVER"]:
            outbox = Path(self.config["OUTBOX_DIR"])
            outbox.mkdir(parents=True, exist_ok=True)
            name = message["Message-ID"].strip("<>").replace("@", "_at_")
            (outbox / f"{name}.eml").write_bytes(bytes(message))
            return
        try:
            self._connection().send_message(message)
        except smtplib.SMTPServerDisconnected:  # an idle connection the server closed: once more
            self._local.smtp = None
            self._connection().send_message(message)
        except Exception:
            self._local.smtp = None  # a broken connection is not reused
            raise

    def _connection(self) -> smtplib.SMTP:
        smtp = getattr(self._local, "smtp", None)
        if smtp is None:
            config = self.config
            smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30)
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            self._local.smtp = smtp
            with self._lock:
                self._opened.append(smtp)
        return smtp

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        for smtp in self._opened:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
