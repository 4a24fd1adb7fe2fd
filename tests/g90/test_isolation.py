"""The protocol package must never import Home Assistant."""

from __future__ import annotations

import ast
from pathlib import Path
import subprocess
import sys
import textwrap

REPO = Path(__file__).resolve().parents[2]
G90 = REPO / "custom_components" / "g90_cloud" / "g90"
CORE = {"wire", "framing", "messages", "events", "session"}

# Imports every module below g90 in a fresh interpreter. The integration's own
# __init__.py imports Home Assistant, so its package is registered as a bare
# package first: importing g90 then runs nothing but g90 code.
_PROBE = textwrap.dedent(
    """
    import importlib, pkgutil, sys, types

    sys.path.insert(0, {repo!r})
    parent = types.ModuleType("custom_components.g90_cloud")
    parent.__path__ = [{integration!r}]
    sys.modules["custom_components.g90_cloud"] = parent
    for extra in sys.argv[1:]:
        importlib.import_module(extra)

    import custom_components.g90_cloud.g90 as g90

    names = [m.name for m in pkgutil.walk_packages(g90.__path__, g90.__name__ + ".")]
    for name in names:
        importlib.import_module(name)
    leaked = sorted(k for k in sys.modules if k.split(".")[0] == "homeassistant")
    print("\\n".join(names))
    assert not leaked, leaked[:5]
    """
).format(repo=str(REPO), integration=str(G90.parent))


def _probe(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )


def test_importing_every_g90_module_loads_no_home_assistant() -> None:
    result = _probe()
    assert result.returncode == 0, result.stderr
    names = set(result.stdout.split())
    prefix = "custom_components.g90_cloud.g90."
    assert {prefix + name for name in CORE} <= names
    # every Python file of the package was imported
    files = {
        prefix + ".".join(path.relative_to(G90).with_suffix("").parts)
        for path in G90.rglob("*.py")
        if path.name != "__init__.py"
    }
    assert files <= names


def test_the_probe_notices_home_assistant() -> None:
    """The subprocess check can fail: import one HA module on purpose."""
    result = _probe("homeassistant.const")
    assert result.returncode != 0
    assert "homeassistant" in result.stderr


def _imported_modules(source: str, path: Path) -> list[str]:
    """Absolute names of everything `source` (the file at `path`) imports."""
    package = ["custom_components", "g90_cloud", *path.parent.relative_to(G90.parent).parts]
    names: list[str] = []
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                parts = package[: len(package) - (node.level - 1)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = node.args[0]
            if called in {"import_module", "__import__"} and isinstance(first, ast.Constant):
                names.append(str(first.value))
    return names


def test_no_source_file_imports_home_assistant() -> None:
    files = sorted(G90.rglob("*.py"))
    assert {path.stem for path in files} >= CORE
    inside = "custom_components.g90_cloud.g90"
    for path in files:
        for name in _imported_modules(path.read_text(encoding="utf-8"), path):
            top = name.split(".")[0]
            assert top != "homeassistant", f"{path.relative_to(REPO)} imports {name}"
            if top == "custom_components":
                # within the integration, only g90 itself (its parent imports HA)
                assert name == inside or name.startswith(inside + "."), (
                    f"{path.relative_to(REPO)} imports {name}"
                )


def test_static_check_sees_what_it_must() -> None:
    """The checker itself: relative imports are resolved, dynamic imports seen."""
    source = textwrap.dedent(
        """
        from . import wire
        from .events import PanelEvent
        from ..const import DOMAIN
        import homeassistant.core
        importlib.import_module("homeassistant.helpers")
        __import__("homeassistant")
        """
    )
    assert _imported_modules(source, G90 / "aio" / "fake.py") == [
        "custom_components.g90_cloud.g90.aio",
        "custom_components.g90_cloud.g90.aio.wire",
        "custom_components.g90_cloud.g90.aio.events",
        "custom_components.g90_cloud.g90.aio.events.PanelEvent",
        "custom_components.g90_cloud.g90.const",
        "custom_components.g90_cloud.g90.const.DOMAIN",
        "homeassistant.core",
        "homeassistant.helpers",
        "homeassistant",
    ]
    names = _imported_modules(source, G90 / "fake.py")
    assert "custom_components.g90_cloud.const" in names
