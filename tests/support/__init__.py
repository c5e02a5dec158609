"""The test kit, imported as `support.<module>` (pytest puts tests/ on the path: `pythonpath`
in pytest.ini). Nothing here imports a conftest or a test module.

- `portal_client`: `PortalClient` (either portal; CSRF token and HTMX header handled),
  `staff_login`, `csrf_token`, `make_staff`, `staff_client`, `contact_client`,
  `only_remember_cookie`;
- `api_client`: `ApiClient` (HTTP Basic with an API key), `body` (the decoded envelope) and
  `seed_objects` (one row of every API object, through the API);
- `factories`: objects in the database through the real services, the billed states, the
  two-tenant world of the authorization matrix;
- `logins`: the fixture users' e-mails and passwords;
- `database`: `clean_database`.
"""
