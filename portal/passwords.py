"""Password hashing: one place that picks the method (scrypt), for staff users and contacts.

Verification needs no such choice: werkzeug reads the method from the stored hash, so hashes
made with any method keep working.
"""
from __future__ import annotations

from flask import current_app, has_app_context
from werkzeug.security import generate_password_hash

DEFAULT_METHOD = "scrypt"


def hash_password(password: str) -> str:
    """A salted hash of `password` (scrypt).

    A testing app may set PASSWORD_HASH_METHOD (e.g. "pbkdf2:sha256:1") so that its tests do
    not spend their time hashing; any other app always uses scrypt.
    :param password: the password in clear.
    """
    method = DEFAULT_METHOD
    if has_app_context() and current_app.testing:
        method = current_app.config.get("PASSWORD_HASH_METHOD", DEFAULT_METHOD)
    return generate_password_hash(password, method=method)
