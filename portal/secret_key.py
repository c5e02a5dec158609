"""The key that signs sessions, remember-me cookies and links.

There is no built-in key: a configured SECRET_KEY wins; otherwise (development only) a
random key is generated once per instance into `<instance>/secret_key` (mode 0600) and
reused by every process of that instance (web workers, scheduler, CLI). A production
configuration without a real key refuses to start.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_FILE_NAME = "secret_key"
MIN_PRODUCTION_KEY_LENGTH = 32


class ConfigurationError(RuntimeError):
    """A setting that makes the install unsafe to run; the message says what to set."""


def check_production_key(key: str | None) -> None:
    """Refuse a missing or short SECRET_KEY in production.

    :param key: the configured SECRET_KEY.
    """
    if not key or len(key) < MIN_PRODUCTION_KEY_LENGTH:
        raise ConfigurationError(
            f"METERBILL_ENV=production needs SECRET_KEY set to a random value of at least "
            f"{MIN_PRODUCTION_KEY_LENGTH} characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`.")


def instance_key(instance_path: str | Path) -> str:
    """The instance's generated key: read it, or create it if no process has yet.

    Creation is race-free: the key is written to a private temporary file, then hard-linked
    to its final name, which fails if another process got there first; everyone then reads
    the one file that won, so all processes of the instance sign with the same key.
    :param instance_path: the instance folder.
    """
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FILE_NAME
    if not path.exists():
        _create_once(path)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_PRODUCTION_KEY_LENGTH:
        raise ConfigurationError(f"{path} holds no usable key; delete it to generate a new one.")
    return key


def _create_once(path: Path) -> None:
    """Write a new random key at `path` unless it exists (mode 0600 from the start)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first: its key is the instance's key
    finally:
        temporary.unlink(missing_ok=True)
