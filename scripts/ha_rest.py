"""Drive a running Home Assistant over its REST API, as a new user would.

Used by scripts/develop (demo), scripts/e2e and scripts/screenshots.
Onboarding creates the documented development login; the config entry is made
through the real config flow.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp

DEV_NAME = "Developer"
DEV_USERNAME = "dev"
DEV_PASSWORD = "g90-develop"  # development instances only: documented in the README


class HomeAssistantRest:
    """A logged-in REST session."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = f"{self.base_url}/"
        self.session = aiohttp.ClientSession()
        self.token: str | None = None
        self.tokens: dict[str, Any] = {}  # the whole /auth/token reply, refresh token included

    async def close(self) -> None:
        await self.session.close()

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def wait_ready(self, within: float = 120) -> None:
        """Until the HTTP API answers."""
        async with asyncio.timeout(within):
            while True:
                try:
                    async with self.session.get(f"{self.base_url}/api/onboarding") as reply:
                        # 200 while onboarding, 404 once onboarded: either way it is up.
                        if reply.status < 500:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.5)

    async def _token(self, code: str) -> None:
        form = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id}
        async with self.session.post(f"{self.base_url}/auth/token", data=form) as reply:
            reply.raise_for_status()
            self.tokens = await reply.json()
            self.token = self.tokens["access_token"]

    async def onboard_or_login(self) -> None:
        """Onboard a fresh instance (creating the dev user), else log in as it."""
        async with self.session.get(f"{self.base_url}/api/onboarding") as reply:
            steps = await reply.json() if reply.status == 200 else []
        pending = {step["step"] for step in steps if not step["done"]}
        if "user" in pending:
            user = {
                "client_id": self.client_id,
                "name": DEV_NAME,
                "username": DEV_USERNAME,
                "password": DEV_PASSWORD,
                "language": "en",
            }
            async with self.session.post(f"{self.base_url}/api/onboarding/users", json=user) as r:
                r.raise_for_status()
                await self._token((await r.json())["auth_code"])
        else:
            await self._login()
        for step in ("core_config", "analytics"):
            if step in pending:
                await self._post(f"/api/onboarding/{step}", {})
        if "integration" in pending:
            await self._post(
                "/api/onboarding/integration",
                {"client_id": self.client_id, "redirect_uri": f"{self.base_url}/?auth_callback=1"},
            )

    async def _login(self) -> None:
        start = {
            "client_id": self.client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": f"{self.base_url}/?auth_callback=1",
        }
        async with self.session.post(f"{self.base_url}/auth/login_flow", json=start) as reply:
            reply.raise_for_status()
            flow_id = (await reply.json())["flow_id"]
        login = {"client_id": self.client_id, "username": DEV_USERNAME, "password": DEV_PASSWORD}
        async with self.session.post(f"{self.base_url}/auth/login_flow/{flow_id}", json=login) as r:
            r.raise_for_status()
            result = await r.json()
        if result.get("type") != "create_entry":
            raise RuntimeError(f"login as {DEV_USERNAME!r} failed: {result}")
        await self._token(result["result"])

    async def _post(self, path: str, body: Any) -> Any:
        async with self.session.post(f"{self.base_url}{path}", json=body, headers=self._auth) as r:
            text = await r.text()
            if r.status >= 400:
                raise RuntimeError(f"POST {path} -> {r.status}: {text}")
            return await r.json() if text else None

    async def ws_call(self, kind: str, **fields: Any) -> Any:
        """One websocket command, for what REST has no endpoint for; its result."""
        url = self.base_url.replace("http", "ws", 1) + "/api/websocket"
        async with self.session.ws_connect(url) as ws:
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": self.token})
            if (await ws.receive_json()).get("type") != "auth_ok":
                raise RuntimeError("websocket authentication failed")
            await ws.send_json({"id": 1, "type": kind, **fields})
            while True:
                reply = await ws.receive_json()
                if reply.get("id") == 1 and reply.get("type") == "result":
                    if not reply.get("success"):
                        raise RuntimeError(f"{kind} failed: {reply.get('error')}")
                    return reply.get("result")

    async def call_service(self, domain: str, service: str, **data: Any) -> Any:
        """Call an action and wait for it (REST blocks until the action is done)."""
        return await self._post(f"/api/services/{domain}/{service}", data)

    async def keep_http_settings(self) -> None:
        """Confirm pending HTTP settings, or Home Assistant reverts them after 5 minutes.

        Only a config/ made before its HTTP settings moved out of YAML has some
        (migrated from its http: section); scripts/first_start.py writes them
        confirmed.
        """
        with contextlib.suppress(RuntimeError):  # nothing waiting for confirmation
            await self.ws_call("http/config/promote")

    async def get(self, path: str) -> Any:
        """GET an API path, as JSON."""
        async with self.session.get(f"{self.base_url}{path}", headers=self._auth) as reply:
            reply.raise_for_status()
            return await reply.json()

    async def render(self, template: str) -> str:
        """Render a template on the server (for registry facts REST has no endpoint for)."""
        async with self.session.post(
            f"{self.base_url}/api/template", json={"template": template}, headers=self._auth
        ) as reply:
            reply.raise_for_status()
            return await reply.text()

    async def set_options(self, entry_id: str, options: dict[str, Any]) -> None:
        """Save a config entry's options through its options flow, as the Configure form does."""
        flow = await self._post("/api/config/config_entries/options/flow", {"handler": entry_id})
        result = await self._post(
            f"/api/config/config_entries/options/flow/{flow['flow_id']}", options
        )
        if result["type"] != "create_entry":
            raise RuntimeError(f"options flow did not save: {result}")

    async def ensure_entry(self, domain: str, settings: dict[str, Any]) -> str:
        """The domain's config entry id, creating it through the config flow if needed."""
        entries = await self.get("/api/config/config_entries/entry")
        for entry in entries:
            if entry["domain"] == domain:
                return str(entry["entry_id"])
        flow = await self._post("/api/config/config_entries/flow", {"handler": domain})
        result = await self._post(f"/api/config/config_entries/flow/{flow['flow_id']}", settings)
        if result["type"] == "menu":  # optional steps offered after the settings
            result = await self._post(
                f"/api/config/config_entries/flow/{flow['flow_id']}", {"next_step_id": "finish"}
            )
        if result["type"] != "create_entry":
            raise RuntimeError(f"config flow did not create an entry: {result}")
        return str(result["result"]["entry_id"])
