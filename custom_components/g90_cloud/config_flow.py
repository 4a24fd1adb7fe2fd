"""Config flow for G90 Cloud."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from .const import DOMAIN


class G90CloudConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for G90 Cloud."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Create the entry."""
        return self.async_create_entry(title="G90 Cloud", data={})
