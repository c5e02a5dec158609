"""Every route × every role, with objects of customer A and of customer B.

Roles: anonymous, a contact of A, a contact of B, a merchant viewer, a merchant admin.
Each answer must be what the role may see, and nothing of one customer may reach another
customer's contact (pages, HTMX partials, PDFs, graph data). A route that this table does
not classify fails the test, so a new route cannot ship unreviewed.
"""
import re

import pytest

from support.factories import build_world
from support.portal_client import csrf_token

# Routes reachable by anyone.
PUBLIC = {"main.index", "main.health", "api_docs.page", "api.openapi_document",
          "merchant.login", "customer.login", "customer.forgot_password", "favicon"}
# Routes authorised by a signed token in the URL (tested in test_token_routes below).
TOKEN = {"links.invoice_view", "links.invoice_pdf", "usage_urls.ping",
         "customer.accept_invitation", "customer.reset_password"}
# Routes that end the session (tested by the auth tests).
SESSION = {"merchant.logout", "customer.logout"}
# Every staff user manages their own account, viewers included.
OWN_ACCOUNT = {"merchant.change_password"}
# Pages only admins may even read: a usage URL is a write credential.
ADMIN_ONLY_READS = {"merchant.usage_url"}
# GET fragments driven by query parameters (a 400 names the missing one).
NEEDS_QUERY = {"merchant.item_price", "merchant.item_tier_editor", "merchant.package_line_rows"}


def routes(app):
    """(endpoint, method, rule) of every route but static files."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, rule


def url_for_tenant(rule, world, tenant: str) -> str:
    """The rule's URL with the ids of `tenant`'s objects (shared ones for the catalog)."""
    t = world[tenant]
    values = {"customer_id": t.customer_id, "package_id": t.package_id, "invoice_id": t.invoice_id,
              "line_id": t.line_id, "credit_note_id": t.credit_note_id, "contact_id": t.contact_id, "url_id": t.url_id,
              "item_id": world["item_id"], "import_id": world["import_id"],
              "key_id": world["key_id"], "obj": "customer", "object_id": t.customer_id,
              "name": "void"}
    path = rule.rule
    for argument in rule.arguments:
        path = re.sub(rf"<(?:\w+:)?{argument}>", str(values[argument]), path)
    return path


@pytest.fixture
def world(app, db):
    return build_world(app, db)


def test_every_route_is_classified(app):
    for endpoint, _method, _rule in routes(app):
        area = endpoint.split(".")[0]
        assert endpoint in PUBLIC | TOKEN | SESSION or area in {"merchant", "customer", "api"}, endpoint


def _request(client, method, path, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    if method == "GET":
        return client.get(path, headers=headers)
    return client.open(path, method=method, headers=headers, data={"csrf_token": csrf_token(client, "/", required=False)})


def _check_merchant(world, endpoint, method, rule):
    clients, path = world["clients"], url_for_tenant(rule, world, "A")
    for role in ("anonymous", "contact_a", "contact_b"):
        answer = _request(clients[role], method, path)
        assert answer.status_code == 302 and "/merchant/login" in answer.headers["Location"], (role, endpoint)
    viewer = _request(clients["viewer"], method, path)
    if method == "GET" and endpoint in ADMIN_ONLY_READS:
        assert viewer.status_code == 403, (endpoint, viewer.status_code)
    elif method == "GET":
        allowed = (200, 400) if endpoint in NEEDS_QUERY else (200,)
        assert viewer.status_code in allowed, (endpoint, viewer.status_code)
    elif endpoint in OWN_ACCOUNT:
        assert viewer.status_code not in (403, 500), (endpoint, viewer.status_code)
    else:
        assert viewer.status_code == 403, (endpoint, viewer.status_code)


def _check_customer(world, endpoint, method, rule):
    clients = world["clients"]
    own, other = url_for_tenant(rule, world, "A"), url_for_tenant(rule, world, "B")
    for role in ("anonymous", "viewer", "admin"):
        answer = _request(clients[role], method, own)
        assert answer.status_code == 302 and "/portal/login" in answer.headers["Location"], (role, endpoint)
    for htmx in (False, True):
        mine = _request(clients["contact_a"], method, own, htmx)
        assert mine.status_code == 200, (endpoint, htmx, mine.status_code)
        body = mine.get_data()
        assert b"Bravo Networks" not in body and b"777 minutes" not in body, endpoint
        if own != other:  # the URL names an object: B's must be invisible to A and back
            assert _request(clients["contact_a"], method, other, htmx).status_code == 404, endpoint
            assert _request(clients["contact_b"], method, own, htmx).status_code == 404, endpoint


def _check_api(world, endpoint, method, rule):
    path = url_for_tenant(rule, world, "A")
    for role in ("anonymous", "contact_a", "viewer", "admin"):
        answer = world["clients"][role].open(path, method=method, json={})
        assert answer.status_code == 401, (role, endpoint, answer.status_code)
        assert answer.get_json()["response"] is False


def test_authorization_matrix(app, world):
    checks = {"merchant": _check_merchant, "customer": _check_customer, "api": _check_api}
    admin_posts = []
    for endpoint, method, rule in routes(app):
        if endpoint in PUBLIC | TOKEN | SESSION:
            continue
        area = endpoint.split(".")[0]
        checks[area](world, endpoint, method, rule)
        if area == "merchant" and method == "POST":
            admin_posts.append((endpoint, rule))
    # Admins may change everything: no 403 and no server error (run last: they change data).
    admin = world["clients"]["admin"]
    for endpoint, rule in admin_posts:
        answer = _request(admin, "POST", url_for_tenant(rule, world, "A"))
        assert answer.status_code not in (403, 500), (endpoint, answer.status_code)
        assert "/merchant/login" not in answer.headers.get("Location", ""), endpoint


# Public pages that send some logged-in roles elsewhere: (endpoint, role) -> Location.
PUBLIC_REDIRECTS = {("customer.login", "contact_a"): "/portal/", ("customer.login", "contact_b"): "/portal/"}


def test_public_routes_answer_everyone(app, world):
    for endpoint in PUBLIC:
        path = next(r.rule for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        for role, client in world["clients"].items():
            answer = client.get(path)
            expected = PUBLIC_REDIRECTS.get((endpoint, role))
            if expected is None:
                assert answer.status_code == 200, (endpoint, role, answer.status_code)
            else:
                assert (answer.status_code, answer.headers["Location"]) == (302, expected), (endpoint, role)


def test_credit_notes_are_their_customer_s_only(app, world):
    """Each contact lists and opens their own credit note (CN-0001 of A, CN-0002 of B) and
    never the other's: page and PDF answer 404 for the other customer's id."""
    a, b = world["A"], world["B"]
    ann, bob = world["clients"]["contact_a"], world["clients"]["contact_b"]
    listing = ann.get("/portal/credit-notes").get_data(as_text=True)
    assert "CN-0001" in listing and "CN-0002" not in listing
    assert "CN-0002" in bob.get("/portal/credit-notes").get_data(as_text=True)
    assert ann.get(f"/portal/credit-notes/{a.credit_note_id}").status_code == 200
    for path in (f"/portal/credit-notes/{b.credit_note_id}", f"/portal/credit-notes/{b.credit_note_id}/pdf",
                 f"/portal/invoices/{b.credit_note_id}", f"/portal/invoices/{b.credit_note_id}/pdf"):
        assert ann.get(path).status_code == 404, path
    # A credit note is not an invoice: the invoice route sends its own customer to its page.
    assert ann.get(f"/portal/invoices/{a.credit_note_id}").headers["Location"].endswith(
        f"/portal/credit-notes/{a.credit_note_id}")


def test_token_routes_show_only_what_the_token_names(app, world):
    client = world["clients"]["contact_b"]
    a, b = world["A"], world["B"]
    page = client.get(f"/r/invoice/{a.invoice_token}")
    assert page.status_code == 200 and b"Alpha Telephony" in page.data and b"Bravo" not in page.data
    forged = b.invoice_token.split(".")[0] + "." + a.invoice_token.split(".")[1]
    assert client.get(f"/r/invoice/{forged}").status_code == 404
    assert client.get(f"/r/invoice/{forged}/pdf").status_code == 404
    assert client.get(f"/u/{a.url_token}?value=1").status_code == 201
    forged_url = b.url_token.split(".")[0] + "." + a.url_token.split(".")[1]
    assert client.get(f"/u/{forged_url}?value=1").status_code == 403
    assert client.get("/portal/invitation/not-a-token").status_code == 400
    assert client.get("/portal/reset/not-a-token").status_code == 400
