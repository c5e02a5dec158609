"""The test kit: clients for the API and the portals, and who logs in with what.

Test modules and conftest files import from here (`from support.portal_client import
PortalClient`); pytest puts tests/ on the path (`pythonpath` in pytest.ini). Nothing here
imports a conftest or a test module.
"""
