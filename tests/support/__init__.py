"""The test kit, imported as `support.<module>` (pytest puts tests/ on the path: `pythonpath`
in pytest.ini). Nothing here imports a conftest or a test module.

- `portal_client`: `PortalClient` (either portal; CSRF token and HTMX header handled),
  `staff_login`, `csrf_token`;
- `api_client`: `ApiClient` (HTTP Basic with an API key) and `body` (the decoded envelope);
- `logins`: the fixture users' e-mails and passwords;
- `database`: `clean_database`.

Factories (objects in the database) are still in tests/factories.py and
tests/factories_billing.py.
"""
