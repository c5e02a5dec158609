"""The merchant portal's areas: a missing area module is an error, never a silent gap."""
import pytest

from portal.merchant import import_view_modules


def test_a_misspelt_area_module_raises():
    with pytest.raises(ModuleNotFoundError, match="portal.merchant.no_such_area"):
        import_view_modules(("no_such_area",))
