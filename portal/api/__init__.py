"""/api/v3: the ChargeOver-compatible JSON API (HTTP Basic auth with API keys)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v3")

from portal.api import auth, errors, exports, routes  # noqa: E402,F401
from portal.api.resources import register_all  # noqa: E402

register_all()
