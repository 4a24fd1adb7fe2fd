"""Give a Home Assistant config folder its HTTP settings before its first start.

`python -m scripts.http_settings CONFIG_DIR PORT` writes CONFIG_DIR/.storage/http
(unless it exists: settings made since, e.g. in the UI, are kept) so that Home
Assistant listens on 127.0.0.1:PORT only. Home Assistant keeps its HTTP
settings in that store now; an `http:` section in configuration.yaml is
migrated into it once and then raises the "HTTP YAML configuration is
deprecated" repair, which a development instance should not show.

The store is written with the installed Home Assistant's own schema and
storage version (scripts/run picks the venv), as its HTTP settings page would
save it, confirmed (no trial to promote) and marked as past the YAML migration.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import sys

from homeassistant.components.http import config as http_config
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


def main(config_dir: str, port: int) -> int:
    path = Path(config_dir) / ".storage" / http_config.STORAGE_KEY
    if path.exists():
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.partial")
    partial.write_text(json.dumps(store(port), indent=4) + "\n")
    partial.chmod(0o600)  # Home Assistant keeps this store private
    os.replace(partial, path)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m scripts.http_settings CONFIG_DIR PORT")
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
