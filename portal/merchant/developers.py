"""Developers: API keys (the private key is shown once) and the API documentation."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.extensions import db
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.models import ApiKey
from portal.services.apikeys import create_api_key, list_api_keys, revoke_api_key
from portal.web import render_page

PAGE, PARTIAL = "merchant/developers.html", "partials/merchant_developers_keys.html"


class ApiKeyForm(FlaskForm):
    """A new API key: only what it is for."""

    name = StringField("What is this key for?", validators=[DataRequired(), Length(max=120)])


def docs_url() -> str:
    """The API documentation page (its endpoint, once the API docs are mounted)."""
    if "api_docs.page" in current_app.view_functions:
        return url_for("api_docs.page")
    return "/api/docs"


def _page(form: ApiKeyForm | None = None, created: tuple[ApiKey, str] | None = None, status: int = 200):
    keys = list_api_keys()
    response = render_page(PAGE, PARTIAL, keys=keys, form=form or ApiKeyForm(formdata=None),
                           created=created, docs_url=docs_url())
    response.status_code = status
    if created is not None:
        # The private key is in this response only: no cache may keep it.
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/developers")
def developers():
    """API keys and where the API is documented."""
    return _page()


@bp.post("/developers/keys")
@admin_required
def api_key_create():
    """Create a key and show its private key, once."""
    form = ApiKeyForm()
    if not form.validate():
        return _page(form, status=422)
    key, private_key = create_api_key(form.name.data)
    db.session.commit()
    return _page(created=(key, private_key), status=201)


@bp.post("/developers/keys/<int:key_id>/revoke")
@admin_required
def api_key_revoke(key_id: int):
    """Revoke a key at once: requests signed with it are refused from now on."""
    key = db.get_or_404(ApiKey, key_id)
    revoke_api_key(key.public_key)
    db.session.commit()
    if request.htmx:
        return _page()
    flash(f"The key “{key.name}” was revoked.", "info")
    return redirect(url_for("merchant.developers"), 303)
