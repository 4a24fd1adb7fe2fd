"""List (or install) the packages Home Assistant installs at its first start.

Home Assistant installs the requirements of its default integrations, and of
those in config/configuration.yaml, when it starts. Installing them here, at
setup time, lets `scripts/develop` and `scripts/e2e` start Home Assistant
offline. The list is read from the installed Home Assistant's own manifests,
so a newer Home Assistant needs no change here.
"""

from __future__ import annotations

from importlib import metadata
import json
from pathlib import Path
import subprocess
import sys

from homeassistant import bootstrap
from homeassistant.auth.mfa_modules import notify as mfa_notify, totp as mfa_totp
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent
COMPONENTS = Path(bootstrap.__file__).parent / "components"


def configured_domains() -> set[str]:
    """Top-level keys of the development configuration."""
    config = REPO / "config" / "configuration.yaml"
    if not config.exists():
        return set()
    return {
        line.split(":", 1)[0]
        for line in config.read_text().splitlines()
        if line and line[0].isalpha() and ":" in line
    }


def requirements() -> list[str]:
    """Requirements of every integration Home Assistant loads at start."""
    pending = set(
        bootstrap.CORE_INTEGRATIONS
        | bootstrap.DEFAULT_INTEGRATIONS
        | bootstrap.DEFAULT_INTEGRATIONS_RECOVERY_MODE
        | bootstrap.LOGGING_AND_HTTP_DEPS_INTEGRATIONS
        | bootstrap.FRONTEND_INTEGRATIONS
        | configured_domains()
    )
    seen: set[str] = set()
    found: set[str] = set(mfa_totp.REQUIREMENTS) | set(mfa_notify.REQUIREMENTS)
    while pending:
        domain = pending.pop()
        seen.add(domain)
        manifest_file = COMPONENTS / domain / "manifest.json"
        if not manifest_file.exists():  # a custom integration, e.g. ours
            continue
        manifest = json.loads(manifest_file.read_text())
        found.update(manifest.get("requirements", []))
        pending.update(set(manifest.get("dependencies", [])) - seen)
    return sorted(found)


def missing(reqs: list[str]) -> list[str]:
    """Those not installed at the exact pinned version."""
    result = []
    for line in reqs:
        req = Requirement(line)
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            result.append(line)
            continue
        if not req.specifier.contains(version, prereleases=True):
            result.append(line)
    return result


def main() -> int:
    reqs = requirements()
    if "--install" not in sys.argv:
        print("\n".join(reqs))
        return 0
    todo = missing(reqs)
    if not todo:
        return 0
    constraints = Path(bootstrap.__file__).parent / "package_constraints.txt"
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    command += ["-c", str(constraints), *todo]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
