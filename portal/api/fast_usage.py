"""POST /api/v3/usage in its common form, answered in front of Flask.

A device posting usage one record at a time sends the same kind of request thousands of
times a second: HTTP Basic with a key this process verified moments ago, a small JSON
object of the plain usage fields, a new record on a line that passes the checks. That
request costs one database statement, but going through Flask (request and app contexts,
the before/after hooks, the session, the limiter's check, the ORM session's transaction)
cost more CPU than everything else together. `FastUsagePost` wraps the app's WSGI
callable and answers exactly that request itself, with the same rules and the same
response (status, headers, envelope, Location) as the Flask view `create_usage`:

- the key comes from the cache `verify_api_key` fills (`apikeys.cached_key`); a miss, an
  expired entry or a last use older than `auth.LAST_USED_RESOLUTION` (to be recorded) goes
  to Flask, which refreshes them;
- the body is decoded as `json_body` decodes it (Decimal numbers) and must hold only the
  fields of `FIELDS`;
- `usage_new.record_new_dbapi` stores it by the one autocommitted statement the view uses
  (the change-log trigger fires in the database as for any insert), on a DB-API connection
  of the app's pool.

Everything else — another method, path or query, signed requests, cookies, an untrusted
host, a large or chunked body, other fields, an invalid record, a failed line check, a
taken key (a retry), a database error — is handed to Flask with the body as read, so its
answer is the full path's. So are requests made while an app context is already pushed
(tests and embedded calls share that context's session; a server never does).

One exception: when the connection fails after the statement of a record without
`external_key` was sent, the record may be stored, and storing it again could count it
twice, so the answer is a 500 that says so (never retried here).
"""
from __future__ import annotations

import io
import logging
from zoneinfo import ZoneInfo

from flask import Flask, has_app_context
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import Authorization
from werkzeug.wsgi import get_host

from portal.api.auth import LAST_USED_RESOLUTION
from portal.api.body import plain_json
from portal.api.envelope import envelope
from portal.api.resources.usage_keys import BY_CUSTOMER, BY_ITEM, POLICY
from portal.db_types import utcnow
from portal.security import HSTS_VALUE
from portal.services.apikeys import cached_key, key_cache
from portal.services.links import external_url
from portal.services.usage_new import PlainNew, plain_new, record_new_dbapi
from portal.web import SECURITY_HEADERS

log = logging.getLogger("meterbill.api")
PATH = "/api/v3/usage"
# The stored fields that need no lookup of their own (customer and item addressing do).
FIELDS = POLICY.stored - set(BY_CUSTOMER) - set(BY_ITEM)
MAX_BODY = 8192  # a usage record is ~150 bytes; anything larger is unusual: Flask's job
SAMPLE_ID = 987654321  # builds the Location once; replaced by each record's id


UNCONFIRMED = ("The database connection failed while storing the record: it may or may not be "
               "stored. Send usage with an external_key to retry it safely.")


class _Unconfirmed(Exception):
    """The statement of a keyless record was sent, and the connection failed."""


class FastUsagePost:
    """WSGI middleware: POST /api/v3/usage answered without Flask when it is plain."""

    def __init__(self, app: Flask, full):
        """:param app: the Flask app (its config, key cache, engine and URL map).
        :param full: the WSGI callable it wraps (Flask's), for every other request."""
        self.app = app
        self.full = full
        self._engine = None
        self._public_url = None
        self._location = ""
        self._headers: list[tuple[str, str]] = []

    def __call__(self, environ, start_response):
        if (environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == PATH
                and not environ.get("QUERY_STRING") and self.app.config.get("API_FAST_PATH")):
            answer = self._answer(environ)
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [body]
        return self.full(environ, start_response)

    def _answer(self, environ):
        """(status, headers, body) of a plain request, else None (Flask answers it)."""
        try:
            data = self._plain_record(environ)
            new = plain_new(data, ZoneInfo(self.app.config["TIMEZONE"])) if data is not None else None
        except Exception:  # a bug here must not cost the request: Flask still answers it
            log.exception("usage fast path: request handed to the full path")
            return None
        if new is None:
            return None
        try:
            new_id = self._store(new)
        except _Unconfirmed:  # it may be stored: no retry here, the client decides
            return self._unconfirmed()
        return None if new_id is None else self._created(new_id)

    def _plain_record(self, environ) -> dict | None:
        """The JSON object of a plain, authenticated request, else None; the body read is
        put back for Flask."""
        if not self._plain_request(environ) or self._key(environ) is None:
            return None
        raw = self._read_body(environ)
        data = plain_json(raw) if raw is not None else None
        if not isinstance(data, dict) or not data or not data.keys() <= FIELDS:
            return None
        return data

    def _plain_request(self, environ) -> bool:
        """No cookie (a session could be refreshed), a trusted host, a small sized body,
        no app context already pushed (see the module's docstring)."""
        if "HTTP_COOKIE" in environ or has_app_context():
            return False
        if self.app.config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST"):
            return False  # Flask-Login would then write the session (a Set-Cookie) every time
        length = environ.get("CONTENT_LENGTH", "")
        limit = min(MAX_BODY, self.app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY)
        if not (length.isascii() and length.isdigit() and int(length) <= limit):
            return False
        trusted = self.app.config.get("TRUSTED_HOSTS")
        if trusted is not None:
            try:
                get_host(environ, trusted)
            except Exception:  # werkzeug's SecurityError: Flask answers the 400
                return False
        return True

    def _key(self, environ):
        """The cached key of a Basic request, fresh and with its last use recorded, else None."""
        credentials = Authorization.from_header(environ.get("HTTP_AUTHORIZATION"))
        if credentials is None or credentials.type != "basic":
            return None
        # A NUL or a wrong password never matches a cached entry: Flask answers them.
        key = cached_key(key_cache(self.app), credentials.username or "", credentials.password or "")
        if key is None or key.last_used_at is None or utcnow() - key.last_used_at > LAST_USED_RESOLUTION:
            return None
        return key

    @staticmethod
    def _read_body(environ) -> bytes | None:
        """The body (CONTENT_LENGTH bytes), put back in `wsgi.input` for Flask; None if short."""
        length = int(environ["CONTENT_LENGTH"])
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        environ.pop("wsgi.input_terminated", None)
        return raw if len(raw) == length else None

    def _store(self, new: PlainNew) -> int | None:
        """The new record's id, stored by the view's one autocommitted statement through the
        pool's DB-API connection (no SQLAlchemy connection or result objects); None when it
        was not stored (Flask then names the error or answers the retry).

        :raises _Unconfirmed: the connection failed during the statement of a record without
            `external_key`: it may have been stored, and storing it again could count it twice.
        """
        engine = self._engine_for_app()
        dialect = engine.dialect
        try:
            connection = engine.raw_connection()  # the pool's checkout: idle ones are pinged
        except (SQLAlchemyError, dialect.loaded_dbapi.Error) as error:
            log.info("usage fast path: %s; handed to the full path", error)
            return None
        sent = False
        try:
            dialect.set_isolation_level(connection.dbapi_connection, "AUTOCOMMIT")
            cursor = connection.cursor()
            try:
                sent = True
                return record_new_dbapi(cursor, dialect, new, "api")
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as error:
            # Only a connection lost mid-statement leaves the outcome unknown: a statement the
            # server refused (a lock timeout, a deadlock) stored nothing, and SQLite's
            # autocommitted statement is atomic in this process.
            lost = dialect.name != "sqlite" and dialect.is_disconnect(error, connection.dbapi_connection, None)
            connection.invalidate()
            if sent and lost and new.usage.external_key is None:
                log.warning("usage fast path: %s; the record may be stored", error)
                raise _Unconfirmed from error
            # Refused before or by the statement (nothing stored), or a keyed record (Flask's
            # retry answers 200 if it was): Flask tries afresh.
            log.info("usage fast path: %s; handed to the full path", error)
            return None
        finally:
            _release(dialect, connection)

    def _unconfirmed(self):
        """500, as the full path answers a lost connection, saying the record may be stored
        (no Retry-After: a client retrying on its own would count it twice)."""
        body = self.app.json.dumps(envelope(500, None, UNCONFIRMED)).encode()
        return "500 INTERNAL SERVER ERROR", [("Content-Type", "application/json"),
                                             ("Content-Length", str(len(body)))], body

    def _engine_for_app(self):
        if self._engine is None:
            from portal.extensions import db

            with self.app.app_context():
                self._engine = db.engine
        return self._engine

    def _created(self, new_id: int):
        """The view's 201: the envelope by the app's JSON, Location, the after-request headers."""
        if self._public_url != self.app.config["PUBLIC_URL"]:
            self._prepare_headers()
        body = self.app.json.dumps(envelope(201, {"id": new_id})).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                   ("Location", f"{self._location}{new_id}"), *self._headers]
        return "201 CREATED", headers, body

    def _prepare_headers(self) -> None:
        """Location's prefix and the headers the app's after-request hooks add to the view's
        answer (security headers, HSTS under https, the session's Vary), for this PUBLIC_URL."""
        public_url = self.app.config["PUBLIC_URL"]
        with self.app.app_context():
            sample = external_url("api.get_object", obj="usage", object_id=SAMPLE_ID)
        self._location = sample.removesuffix(str(SAMPLE_ID))
        headers = [(name, value) for name, value in SECURITY_HEADERS.items()
                   if name != "Content-Security-Policy"]  # HTML only
        if public_url.startswith("https://"):
            headers.append(("Strict-Transport-Security", HSTS_VALUE))
        self._headers = [*headers, ("Vary", "Cookie")]
        self._public_url = public_url


def _release(dialect, connection) -> None:
    """Back to the pool in its default isolation level; a connection that fails that is
    dropped (the record, if stored, stays stored: this must not raise)."""
    try:
        if connection.dbapi_connection is not None:
            dialect.reset_isolation_level(connection.dbapi_connection)
    except dialect.loaded_dbapi.Error:
        connection.invalidate()
    connection.close()
