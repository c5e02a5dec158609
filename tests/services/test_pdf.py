"""Invoice PDFs: real PDFs, checked by extracting their text."""
import io
from decimal import Decimal

from pypdf import PdfReader

from support.factories import make_october_invoice
from support.factories import PNG
from portal.services.pdf import render_invoice_pdf
from portal.services.settings import ensure_settings


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_pdf_carries_the_invoice_figures(db):
    invoice = make_october_invoice()
    pdf = render_invoice_pdf(invoice)
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    for expected in (f"Invoice #{invoice.refnumber}", "Date: 2015-10-01", "Due date: 2015-10-31",
                     "Net 30", "Acme Telephony", "2015-10-01 – 2015-10-31", "2015-09-01 – 2015-09-30",
                     "361 minutes", "0.05", "18.05 USD", "10.00 USD", "28.05 USD",
                     "Balance due", "Overdue", "Tax (0 %)"):
        assert expected in text, expected


def test_invoice_design_settings_shape_the_pdfs_of_new_invoices(db):
    settings = ensure_settings()
    settings.company_name = "Northwind Telecom"
    settings.footer_text = "Northwind Telecom · VAT GB123"
    settings.terms_text = "Late payments accrue 1.5% monthly interest."
    settings.default_tax_rate = Decimal("0.0825")
    settings.logo, settings.logo_mimetype = PNG, "image/png"
    settings.accent_colour = "#dc2626"
    invoice = make_october_invoice()  # issued after the settings changed
    with_logo = render_invoice_pdf(invoice)
    text = _text(with_logo)
    assert "Tax (8.25 %)" in text
    assert "Northwind Telecom · VAT GB123" in text
    assert "Late payments accrue 1.5% monthly interest." in text
    assert b"/Subtype /Image" in with_logo


def test_tiered_usage_shows_its_tiers(db):
    from portal.billing.pricing import PriceModel, Tier
    from support.factories import make_package, make_voip_item, utc
    from portal.models import Invoice
    from portal.services.billing import run_billing
    from portal.services.usage import record_usage

    tiers = (Tier(Decimal(0), Decimal(100), Decimal("0.10")),
             Tier(Decimal(101), Decimal(1000), Decimal("0.08")),
             Tier(Decimal(1001), None, Decimal("0.05")))
    item = make_voip_item(name="Data", units="GB", units_plural="GB",
                          pricing=PriceModel(pricemodel="tie", tiers=tiers))
    package = make_package(item=item)
    record_usage({"line_item_id": package.line_items[0].id, "usage_value": "1500",
                  "from": "2015-09-03 00:00:00"})
    db.session.commit()
    invoice = db.session.get(Invoice, run_billing(utc(2015, 10, 1)).invoice_ids[-1])
    text = _text(render_invoice_pdf(invoice))
    assert "107.00 USD" in text  # 100×0.10 + 900×0.08 + 500×0.05
    assert "tier 1: 100" in text and "tier 3: 500" in text
