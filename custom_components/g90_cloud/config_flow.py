"""Config, reconfigure and options flows for G90 Cloud.

The connection settings live in the entry's data: set when it is added,
changed with Reconfigure. Every field is checked before anything is saved:
addresses, ports, that the listen port is free right now (and used by no
other entry), and that chaining does not loop back to us. The options hold
what is optional: which panels may connect, and how Home Assistant controls
them (the code, the control channel, a panel's LAN address). Both the config
and the options flow can point a panel at Home Assistant (a one-shot field,
never saved).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import errno
import ipaddress
import re
from typing import Any, Final, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryBaseFlow,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio

from .const import (
    CONF_ALLOWED_GUIDS,
    CONF_CLOUD_IP,
    CONF_CLOUD_PORT,
    CONF_CODE,
    CONF_CODE_ARM_REQUIRED,
    CONF_CONTROL_CHANNEL,
    CONF_HELLO_TIMEOUT,
    CONF_LIMITS,
    CONF_LOCAL_IP,
    CONF_LOCAL_PORT,
    CONF_MAX_CONNECTIONS,
    CONF_MAX_PANELS_PER_ADDRESS,
    CONF_MAX_STRANGERS_PER_ADDRESS,
    CONF_PANEL_IP,
    CONF_PANEL_LAN_ADDRESS,
    CONF_UPSTREAM_HOST,
    CONF_UPSTREAM_PORT,
    DEFAULT_LOCAL_IP,
    DOMAIN,
    PANEL_WAIT,
    ControlChannel,
)
from .g90.aio.server import ListenerConfig, port_available
from .g90.local import PANEL_LOCAL_PORT
from .g90.wire import DEFAULT_PORT
from .hub import G90Hub, async_lan_address
from .pointing import Outcome, point_and_wait

PORT_SELECTOR = NumberSelector(NumberSelectorConfig(mode=NumberSelectorMode.BOX, step=1))
CHANNEL_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[channel.value for channel in ControlChannel],
        mode=SelectSelectorMode.DROPDOWN,
        translation_key=CONF_CONTROL_CHANNEL,
    )
)
PORT_FIELDS = (CONF_LOCAL_PORT, CONF_CLOUD_PORT, CONF_UPSTREAM_PORT)
HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$")
GUID = re.compile(r"^[A-Za-z0-9]{1,15}$")


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _port(value: Any) -> int | None:
    try:
        number = float(value)
    except TypeError, ValueError:
        return None
    if not number.is_integer() or not 1 <= number <= 65535:
        return None
    return int(number)


def _is_us(upstream: str, clean: dict[str, Any]) -> bool:
    """Whether chaining to `upstream` would reach this very listener.

    It would through the announced address (on the announced port, which port
    mapping leads to the listen port, or on the listen port itself), and
    through the listen address or loopback on the listen port.
    """
    port, local_port = clean[CONF_UPSTREAM_PORT], clean[CONF_LOCAL_PORT]
    if upstream == clean[CONF_CLOUD_IP] and port in (clean[CONF_CLOUD_PORT], local_port):
        return True
    if port != local_port:
        return False
    address, local = _ip(upstream), _ip(clean[CONF_LOCAL_IP])
    loopback = upstream.lower() == "localhost" or (address is not None and address.is_loopback)
    everywhere = local is not None and (local.is_unspecified or local.is_loopback)
    return upstream == clean[CONF_LOCAL_IP] or (loopback and everywhere)


def _settings_schema(defaults: dict[str, Any]) -> probatio.Schema:
    return probatio.Schema(
        {
            probatio.Required(CONF_LOCAL_IP, default=defaults[CONF_LOCAL_IP]): TextSelector(),
            probatio.Required(CONF_LOCAL_PORT, default=defaults[CONF_LOCAL_PORT]): PORT_SELECTOR,
            probatio.Required(CONF_CLOUD_IP, default=defaults[CONF_CLOUD_IP]): TextSelector(),
            probatio.Required(CONF_CLOUD_PORT, default=defaults[CONF_CLOUD_PORT]): PORT_SELECTOR,
            probatio.Optional(
                CONF_UPSTREAM_HOST,
                description={"suggested_value": defaults.get(CONF_UPSTREAM_HOST) or ""},
            ): TextSelector(),
            probatio.Required(
                CONF_UPSTREAM_PORT, default=defaults[CONF_UPSTREAM_PORT]
            ): PORT_SELECTOR,
        }
    )


def _suggested(
    key: str, typed: dict[str, Any], selector: Any, default: Any = ""
) -> dict[probatio.Optional, Any]:
    """An optional field showing what was typed (or saved), without a default of its own.

    So a field the user empties, or a client leaves out, is not saved.
    """
    value = typed.get(key, default)
    return {probatio.Optional(key, description={"suggested_value": value}): selector}


def _with_panel_ip(schema: probatio.Schema, typed: dict[str, Any]) -> probatio.Schema:
    """The schema plus the one-shot "point my panel here" field, showing what was typed."""
    suggested = {"suggested_value": typed.get(CONF_PANEL_IP) or ""}
    return schema.extend({probatio.Optional(CONF_PANEL_IP, description=suggested): TextSelector()})


async def _default_settings(hass: HomeAssistant) -> dict[str, Any]:
    return {
        CONF_LOCAL_IP: DEFAULT_LOCAL_IP,
        CONF_LOCAL_PORT: DEFAULT_PORT,
        CONF_CLOUD_IP: await async_lan_address(hass),
        CONF_CLOUD_PORT: DEFAULT_PORT,
        CONF_UPSTREAM_HOST: "",
        CONF_UPSTREAM_PORT: DEFAULT_PORT,
    }


async def validate_settings(
    hass: HomeAssistant,
    user_input: dict[str, Any],
    *,
    current: ConfigEntry | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean settings and per-field error keys (empty when all is well).

    `current`: the entry being changed; its own listener holds its port, so
    the port is only test-bound when the address or port changes.
    """
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    local_ip = str(user_input.get(CONF_LOCAL_IP, "")).strip()
    if _ip(local_ip) is None:
        errors[CONF_LOCAL_IP] = "invalid_local_ip"
    clean[CONF_LOCAL_IP] = local_ip
    cloud_ip = str(user_input.get(CONF_CLOUD_IP, "")).strip()
    parsed = _ip(cloud_ip)
    if parsed is None or parsed.version != 4 or parsed.is_unspecified:
        errors[CONF_CLOUD_IP] = "invalid_cloud_ip"
    clean[CONF_CLOUD_IP] = cloud_ip
    for field in PORT_FIELDS:
        port = _port(user_input.get(field, DEFAULT_PORT))
        if port is None:
            errors[field] = "invalid_port"
        clean[field] = port
    upstream = str(user_input.get(CONF_UPSTREAM_HOST) or "").strip()
    if upstream:
        if _ip(upstream) is None and not HOSTNAME.match(upstream):
            errors[CONF_UPSTREAM_HOST] = "invalid_upstream_host"
        elif _is_us(upstream, clean):
            errors[CONF_UPSTREAM_HOST] = "upstream_is_us"
    # Kept even when empty: the entry then says plainly that chaining is off.
    clean[CONF_UPSTREAM_HOST] = upstream
    if errors:
        return clean, errors

    for entry in hass.config_entries.async_entries(DOMAIN, include_ignore=False):
        if entry is not current and entry.data.get(CONF_LOCAL_PORT) == clean[CONF_LOCAL_PORT]:
            # One entry per port: said on the field, with what was typed kept.
            return clean, {CONF_LOCAL_PORT: "port_configured"}
    before = current.data if current is not None else {}
    unchanged = current is not None and all(
        before.get(key) == clean[key] for key in (CONF_LOCAL_IP, CONF_LOCAL_PORT)
    )
    if not unchanged:
        problem = await port_available(local_ip, clean[CONF_LOCAL_PORT])
        if problem is not None:
            in_use = problem.errno == errno.EADDRINUSE
            # Only the address changes: the port is in use by the entry's own listener.
            own = (
                in_use
                and current is not None
                and current.state is ConfigEntryState.LOADED
                and before.get(CONF_LOCAL_PORT) == clean[CONF_LOCAL_PORT]
            )
            if not own:
                errors[CONF_LOCAL_PORT] = "port_in_use" if in_use else "cannot_bind"
    return clean, errors


def _panel_ip(user_input: dict[str, Any], errors: dict[str, str]) -> str:
    """The optional panel address of a form; an error if it is not an IPv4 address."""
    text = str(user_input.get(CONF_PANEL_IP) or "").strip()
    address = _ip(text) if text else None
    if text and (address is None or address.version != 4):
        errors[CONF_PANEL_IP] = "invalid_panel_ip"
    return text


def _title(settings: dict[str, Any]) -> str:
    return f"G90 Cloud (port {settings[CONF_LOCAL_PORT]})"


class PointPanelFlow(ConfigEntryBaseFlow):
    """The steps the config and options flows share: point a panel here, then finish.

    A flow sets `_settings` (the listener the panel is told about) and
    `_panel_ip`, then goes to `point_panel`; each flow says how it finishes.
    """

    _settings: dict[str, Any]
    _panel_ip: str
    _point_task: asyncio.Task[tuple[Outcome, str | None]] | None = None

    def _hub(self) -> G90Hub | None:
        """The running hub to wait on; None: a temporary listener waits."""
        return None

    async def _finish(self) -> ConfigFlowResult:
        """Save what the flow is for."""
        raise NotImplementedError

    def _placeholders(self) -> dict[str, str]:
        return {
            "panel_ip": self._panel_ip,
            "address": f"{self._settings[CONF_CLOUD_IP]}:{self._settings[CONF_CLOUD_PORT]}",
            "seconds": str(int(PANEL_WAIT.total_seconds())),
        }

    async def async_step_point_panel(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Send the panel our address over its local protocol; wait for it to connect."""
        if self._point_task is None:
            self._point_task = self.hass.async_create_task(
                point_and_wait(
                    self.hass,
                    self._settings,
                    self._panel_ip,
                    self._hub(),
                    panel_port=PANEL_LOCAL_PORT,
                )
            )
        if not self._point_task.done():
            return self.async_show_progress(
                step_id="point_panel",
                progress_action="wait_for_panel",
                progress_task=self._point_task,
                description_placeholders=self._placeholders(),
            )
        outcome, _guid = self._point_task.result()
        self._point_task = None
        return self.async_show_progress_done(next_step_id=outcome.value)

    async def async_step_panel_connected(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The panel connected: done."""
        return await self._finish()

    async def async_step_panel_timeout(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """No panel connected in time: try again, or finish without it."""
        return self.async_show_menu(
            step_id="panel_timeout",
            menu_options=["point_panel", "finish"],
            description_placeholders=self._placeholders(),
        )

    async def async_step_panel_unreachable(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The datagram could not be sent (or the port could not be opened to wait)."""
        return self.async_show_menu(
            step_id="panel_unreachable",
            menu_options=["point_panel", "finish"],
            description_placeholders=self._placeholders(),
        )

    async def async_step_finish(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Save (the panel can be pointed later, or by a router rule)."""
        return await self._finish()


class G90CloudConfigFlow(ConfigFlow, PointPanelFlow, domain=DOMAIN):
    """Set up a listener for G90 panels, or change its connection settings."""

    VERSION = 1
    MINOR_VERSION = 2
    """1.2: connection settings only in data (1.1 entries may hold them in options)."""

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> G90CloudOptionsFlow:
        """Options: which panels may connect."""
        return G90CloudOptionsFlow()

    @override
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Where to listen, what to announce to panels, whether to chain to the vendor cloud."""
        errors: dict[str, str] = {}
        defaults = await _default_settings(self.hass)
        if user_input is not None:
            clean, errors = await validate_settings(self.hass, user_input)
            panel_ip = _panel_ip(user_input, errors)
            if not errors:
                self._settings = clean
                if panel_ip:
                    self._panel_ip = panel_ip
                    return await self.async_step_point_panel()
                return await self._finish()
            defaults |= user_input
        schema = _with_panel_ip(_settings_schema(defaults), defaults)
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)

    @override
    async def _finish(self) -> ConfigFlowResult:
        return self.async_create_entry(title=_title(self._settings), data=self._settings)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the listener's connection settings."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        defaults = await _default_settings(self.hass) | dict(entry.data)
        if user_input is not None:
            clean, errors = await validate_settings(self.hass, user_input, current=entry)
            if not errors:
                return self.async_update_reload_and_abort(entry, title=_title(clean), data=clean)
            defaults |= user_input
        return self.async_show_form(
            step_id="reconfigure", data_schema=_settings_schema(defaults), errors=errors
        )


LIMIT_FIELDS: Final[dict[str, tuple[float, float]]] = {
    CONF_MAX_CONNECTIONS: (1, 10_000),
    CONF_MAX_STRANGERS_PER_ADDRESS: (1, 1_000),
    CONF_MAX_PANELS_PER_ADDRESS: (1, 10_000),
    CONF_HELLO_TIMEOUT: (1, 600),
}
"""The listener's limits (options, "limits" section): each field's range."""


def _limit_defaults() -> dict[str, float]:
    defaults = ListenerConfig()
    return {
        CONF_MAX_CONNECTIONS: defaults.max_connections,
        CONF_MAX_STRANGERS_PER_ADDRESS: defaults.max_unidentified_per_address,
        CONF_MAX_PANELS_PER_ADDRESS: defaults.max_panels_per_address,
        CONF_HELLO_TIMEOUT: defaults.hello_timeout,
    }


def _limits_schema(saved: Mapping[str, Any]) -> probatio.Schema:
    """The limits section: each number with its range, the saved value or the default."""
    values = _limit_defaults() | dict(saved)
    return probatio.Schema(
        {
            probatio.Required(key, default=values[key]): NumberSelector(
                NumberSelectorConfig(mode=NumberSelectorMode.BOX, min=low, max=high, step=1)
            )
            for key, (low, high) in LIMIT_FIELDS.items()
        }
    )


def _limits(user_input: Mapping[str, Any]) -> dict[str, int]:
    """The limits given that differ from the defaults (the rest follows the defaults)."""
    given = user_input.get(CONF_LIMITS) or {}
    defaults = _limit_defaults()
    return {
        key: int(given[key])
        for key in LIMIT_FIELDS
        if key in given and int(given[key]) != defaults[key]
    }


class G90CloudOptionsFlow(OptionsFlowWithReload, PointPanelFlow):
    """Which panels may connect, how they are controlled; and pointing a panel here.

    One form. The control options are saved as given: a field left out (an
    emptied code or address) is not saved, and its default applies.
    """

    _options: dict[str, Any]

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form; saving a change reloads the entry."""
        entry = self.config_entry
        errors: dict[str, str] = {}
        typed = user_input or {}
        guids = [str(guid).strip() for guid in typed.get(CONF_ALLOWED_GUIDS) or []]
        if user_input is None:
            guids = list(entry.options.get(CONF_ALLOWED_GUIDS) or [])
            typed = dict(entry.options)
        else:
            if any(not GUID.match(guid) for guid in guids):
                errors[CONF_ALLOWED_GUIDS] = "invalid_guid"
            control = self._control_options(user_input, errors)
            panel_ip = _panel_ip(user_input, errors)
            if not errors:
                self._options = {CONF_ALLOWED_GUIDS: guids, **control}
                if limits := _limits(user_input):
                    self._options[CONF_LIMITS] = limits
                if panel_ip:
                    self._settings = await self._settings_in_force()
                    self._panel_ip = panel_ip
                    return await self.async_step_point_panel()
                return await self._finish()
        hub = self._hub()
        known = set(hub.panels) if hub is not None else set()
        schema = probatio.Schema(
            {
                probatio.Optional(CONF_ALLOWED_GUIDS, default=guids): SelectSelector(
                    SelectSelectorConfig(
                        options=sorted(known | set(guids)), multiple=True, custom_value=True
                    )
                ),
                **_suggested(
                    CONF_CODE,
                    typed,
                    TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD)),
                ),
                **_suggested(CONF_CODE_ARM_REQUIRED, typed, BooleanSelector(), default=True),
                **_suggested(
                    CONF_CONTROL_CHANNEL, typed, CHANNEL_SELECTOR, default=ControlChannel.AUTOMATIC
                ),
                **_suggested(CONF_PANEL_LAN_ADDRESS, typed, TextSelector()),
                probatio.Optional(CONF_LIMITS): section(
                    _limits_schema(typed.get(CONF_LIMITS) or {}), {"collapsed": True}
                ),
            }
        )
        return self.async_show_form(
            step_id="init", data_schema=_with_panel_ip(schema, typed), errors=errors
        )

    @staticmethod
    def _control_options(user_input: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
        """The control options given, cleaned; an error for an address that is not IPv4."""
        options: dict[str, Any] = {}
        if code := str(user_input.get(CONF_CODE) or "").strip():
            options[CONF_CODE] = code
        if CONF_CODE_ARM_REQUIRED in user_input:
            options[CONF_CODE_ARM_REQUIRED] = bool(user_input[CONF_CODE_ARM_REQUIRED])
        if CONF_CONTROL_CHANNEL in user_input:
            options[CONF_CONTROL_CHANNEL] = ControlChannel(user_input[CONF_CONTROL_CHANNEL]).value
        if address := str(user_input.get(CONF_PANEL_LAN_ADDRESS) or "").strip():
            parsed = _ip(address)
            if (
                parsed is None
                or parsed.version != 4
                or parsed.is_unspecified
                or parsed.is_multicast
                or parsed.is_reserved  # 255.255.255.255 among them: one panel's, no broadcast
            ):
                errors[CONF_PANEL_LAN_ADDRESS] = "invalid_lan_address"
            options[CONF_PANEL_LAN_ADDRESS] = address
        return options

    async def _settings_in_force(self) -> dict[str, Any]:
        """The listener the panel is pointed at: the running one (the allow-list applies later)."""
        hub = self._hub()
        if hub is not None:
            return hub.settings
        settings = dict(self.config_entry.data)
        settings[CONF_CLOUD_IP] = settings.get(CONF_CLOUD_IP) or await async_lan_address(self.hass)
        return settings

    @override
    def _hub(self) -> G90Hub | None:
        entry = self.config_entry
        return entry.runtime_data if entry.state is ConfigEntryState.LOADED else None

    @override
    async def _finish(self) -> ConfigFlowResult:
        return self.async_create_entry(data=self._options)
