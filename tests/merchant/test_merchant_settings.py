"""Settings page: identity, defaults, invoice design with logo, and the live preview."""
import io
from decimal import Decimal

from support.factories import SETTINGS_FORM as SETTINGS, make_october_invoice
from portal.models import MerchantSettings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _saved() -> MerchantSettings:
    from portal.extensions import db

    db.session.expire_all()
    return db.session.get(MerchantSettings, 1)


def test_page_shows_settings_and_a_sample_preview(admin, db):
    page = admin.get("/merchant/settings").get_data(as_text=True)
    assert "Meterbill Demo Merchant" in page and "Preview with a sample invoice" in page
    assert "28.05 USD" in page  # the sample is ChargeOver's example


def test_preview_uses_the_latest_invoice(admin, db):
    invoice = make_october_invoice()
    page = admin.get("/merchant/settings").get_data(as_text=True)
    assert f"Preview with invoice #{invoice.refnumber}" in page


def test_save_settings(admin, db):
    response = admin.post("/merchant/settings", SETTINGS)
    assert response.status_code == 302
    saved = _saved()
    assert (saved.company_name, saved.default_currency, saved.payment_terms_days) == ("Meter Corp", "EUR", 15)
    assert saved.default_tax_rate == Decimal("0.0825") and saved.accent_colour == "#0f766e"
    assert saved.footer_text == "Thank you!" and saved.address == "1 Grid Road\nVolt City"
    assert 'value="8.25"' in admin.get("/merchant/settings").get_data(as_text=True)


def test_bad_values_are_shown_next_to_their_field(admin, db):
    for field, value, message in (("company_name", " ", "is required"),
                                  ("default_tax_rate", "abc", "must be a number"),
                                  ("default_tax_rate", "150", "between 0 and 100"),
                                  ("accent_colour", "red", "must be a colour like"),
                                  ("email", "nobody", "must be an e-mail address"),
                                  ("payment_terms_days", "7", "Not a valid choice")):
        response = admin.post("/merchant/settings", dict(SETTINGS, **{field: value}))
        assert response.status_code == 422 and message in response.get_data(as_text=True), field
    assert _saved().company_name == "Meterbill Demo Merchant"


def test_logo_upload_and_removal(admin, db):
    data = dict(SETTINGS, logo=(io.BytesIO(PNG), "logo.png"))
    assert admin.post("/merchant/settings", data, content_type="multipart/form-data").status_code == 302
    saved = _saved()
    assert saved.logo == PNG and saved.logo_mimetype == "image/png"
    assert "data:image/png;base64," in admin.get("/merchant/settings").get_data(as_text=True)
    assert admin.post("/merchant/settings", dict(SETTINGS, remove_logo="y")).status_code == 302
    assert _saved().logo is None


def test_bad_logos_are_refused(admin, db):
    for content, message in ((b"GIF89a" + b"\x00" * 10, "must be a PNG or JPEG image"),
                             (PNG + b"\x00" * 512 * 1024, "must be at most 500 kB")):
        data = dict(SETTINGS, logo=(io.BytesIO(content), "logo.png"))
        response = admin.post("/merchant/settings", data, content_type="multipart/form-data")
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _saved().logo is None


def test_live_preview_shows_unsaved_values(admin, db):
    data = dict(SETTINGS, logo=(io.BytesIO(PNG), "logo.png"))
    response = admin.post("/merchant/settings/preview", data, htmx=True, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page and 'id="invoice-preview"' in page
    assert "Meter Corp" in page and "--accent: #0f766e" in page and "Thank you!" in page
    assert "data:image/png;base64," in page
    assert _saved().company_name == "Meterbill Demo Merchant"  # nothing saved


def test_live_preview_reports_a_bad_logo_and_keeps_going(admin, db):
    data = dict(SETTINGS, accent_colour="nonsense", logo=(io.BytesIO(b"not an image"), "x.png"))
    page = admin.post("/merchant/settings/preview", data, htmx=True,
                      content_type="multipart/form-data").get_data(as_text=True)
    assert "Logo: must be a PNG or JPEG image" in page and "--accent: #2563eb" in page


def test_save_needs_the_csrf_token(admin, db):
    assert admin.post("/merchant/settings", SETTINGS, csrf=False).status_code == 400
    assert _saved() is None or _saved().company_name != "Meter Corp"


def test_mail_rate_is_a_setting_with_the_server_default_when_empty(admin, db):
    page = admin.get("/merchant/settings").get_data(as_text=True)
    assert "E-mails per minute at most" in page and "the server&#39;s default, 3000 per minute" in page
    assert admin.post("/merchant/settings", dict(SETTINGS, mail_rate_per_minute="600")).status_code == 302
    assert _saved().mail_rate_per_minute == 600
    response = admin.post("/merchant/settings", dict(SETTINGS, mail_rate_per_minute="0"))
    assert response.status_code == 422 and "Number must be between 1 and 100000" in response.get_data(as_text=True)
    assert admin.post("/merchant/settings", dict(SETTINGS, mail_rate_per_minute="")).status_code == 302
    assert _saved().mail_rate_per_minute is None
