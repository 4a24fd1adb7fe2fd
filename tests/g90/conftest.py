"""The protocol tests need no Home Assistant: switch off the suite-wide HA fixture."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override tests/conftest.py: no `hass` instance for pure protocol tests."""
