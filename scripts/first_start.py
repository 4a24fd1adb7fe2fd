"""Prepare a Home Assistant config folder before its first start: local and offline.

`python -m scripts.first_start CONFIG_DIR PORT` writes, unless they exist
(what was set since, e.g. in the UI, is kept):

* CONFIG_DIR/.storage/http, so that Home Assistant listens on 127.0.0.1:PORT
  only. Home Assistant keeps its HTTP settings in that store now; an `http:`
  section in configuration.yaml is migrated into it once and then raises the
  "HTTP YAML configuration is deprecated" repair, which a development instance
  should not show. Written with the installed Home Assistant's own schema and
  storage version (scripts/run picks the venv), as its HTTP settings page would
  save it, confirmed (no trial to promote) and marked as past the YAML migration.
* CONFIG_DIR/.storage/onboarding, with every onboarding step but the user's
  marked done: the location step would otherwise set up integrations that
  reach the internet (weather, radio, text to speech) and install their
  packages at start. Onboarding then ends with the user (scripts/ha_rest.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import sys

from homeassistant.components import onboarding
from homeassistant.components.http import config as http_config
from homeassistant.components.onboarding import const as onboarding_const
from homeassistant.util import dt as dt_util


def store(port: int) -> dict[str, object]:
    """The .storage/http document for 127.0.0.1:port."""
    settings = http_config.HTTP_STORAGE_SCHEMA(
        {http_config.CONF_SERVER_HOST: ["127.0.0.1"], http_config.CONF_SERVER_PORT: port}
    )
    stable = {
        **settings,
        http_config.HTTP_CONFIG_CREATED_AT: dt_util.utcnow().isoformat(),
        http_config.HTTP_CONFIG_ERROR: None,
        http_config.HTTP_CONFIG_ERROR_MESSAGE: None,
    }
    return {
        "version": http_config.STORAGE_VERSION,
        "minor_version": http_config.STORAGE_MINOR_VERSION,
        "key": http_config.STORAGE_KEY,
        "data": {
            http_config.KEY_STABLE: stable,
            http_config.KEY_PENDING: None,
            http_config.KEY_YAML_MIGRATION_DONE: True,
        },
    }


def onboarding_store() -> dict[str, object]:
    """The .storage/onboarding document: every step done but the user's."""
    done = [step for step in onboarding_const.STEPS if step != onboarding_const.STEP_USER]
    return {
        "version": onboarding.STORAGE_VERSION,
        "minor_version": 1,
        "key": onboarding.STORAGE_KEY,
        "data": {"done": done},
    }


def write_new(path: Path, document: dict[str, object]) -> None:
    """Write a store, unless it exists; atomically, private as Home Assistant keeps them."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.partial")
    partial.write_text(json.dumps(document, indent=4) + "\n")
    partial.chmod(0o600)
    os.replace(partial, path)


def main(config_dir: str, port: int) -> int:
    storage = Path(config_dir) / ".storage"
    write_new(storage / http_config.STORAGE_KEY, store(port))
    write_new(storage / onboarding.STORAGE_KEY, onboarding_store())
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m scripts.http_settings CONFIG_DIR PORT")
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
