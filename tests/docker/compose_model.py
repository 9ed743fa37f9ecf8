"""docker/compose.yaml as ``docker compose config`` sees it, and helpers over its services."""

from __future__ import annotations

import inspect
import re
import shlex
from typing import Any

import streamer.settings

__all__ = [
    "ARTDAG_SERVICES",
    "SPEC_VARIABLES",
    "artdag_args",
    "env_of",
    "interpolate",
    "mount_source",
    "settings_variables",
]

ARTDAG_SERVICES = ("l1-server", "l1-worker", "l1-monitor")
SPEC_VARIABLES = {  # the specification's configuration table
    "HOST",
    "PORT",
    "REDIS_URL",
    "DATABASE_URL",
    "CACHE_DIR",
    "IPFS_API",
    "IPFS_GATEWAY_URL",
    "IPFS_PRIMARY",
    "L1_PUBLIC_URL",
    "L2_SERVER",
    "L2_DOMAIN",
    "ARTDAG_CLUSTER_KEY",
}

_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Resolve ``$$``, ``${V}``, ``${V:-d}``, ``${V-d}``, ``${V:?m}`` as Compose does."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group("escaped"):
            return "$"
        name = m.group("name") or m.group("bare")
        op, arg, current = m.group("op"), m.group("arg") or "", env.get(name)
        if op == ":-":
            return current or arg
        if op == "-":
            return arg if current is None else current
        if op in (":?", "?") and not current:
            raise AssertionError(f"compose requires {name}: {arg}")
        return current or ""

    return _INTERPOLATION.sub(sub, value)


def settings_variables() -> set[str]:
    """Every variable ``Settings.from_env`` reads (from its source, so new ones are caught)."""
    source = inspect.getsource(streamer.settings.Settings.from_env)
    names = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', source))
    assert {"REDIS_URL", "DATABASE_URL", "IPFS_API"} <= names  # the pattern still matches
    return names


def env_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's ``environment`` as a dict, whichever form the file uses."""
    env = service.get("environment", {})
    if isinstance(env, list):  # KEY=VALUE form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def artdag_args(test_or_command: list[str]) -> list[str] | None:
    """The arguments after ``artdag`` in a health-check test, or None if it does not run it."""
    words = list(test_or_command)
    if words and words[0] in ("CMD", "CMD-SHELL"):
        words = words[1:] if words[0] == "CMD" else shlex.split(words[1])
    return words[1:] if words and words[0] == "artdag" else None


def mount_source(service: dict[str, Any], target: str) -> str | None:
    """The volume or bind source mounted at ``target`` in a service, if any."""
    for volume in service.get("volumes", []):
        source, _, rest = str(volume).partition(":")
        if rest.split(":")[0] == target:
            return source
    return None
