"""Typed readers over the environment, each raising :class:`SettingsError` naming the variable."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["EnvReader", "SettingsError", "check_url"]

_HOST_RE = re.compile(r"^[A-Za-z0-9._-]+$")
_REDIS_NAME_RE = re.compile(r"^[\w:.\-]{1,100}$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A configuration variable has a value that cannot be used.

    Attributes:
        variable: the environment variable name.
        value: the offending value.
        expected: the accepted form, in words.
    """

    def __init__(self, variable: str, value: str, expected: str) -> None:
        self.variable = variable
        self.value = value
        self.expected = expected
        super().__init__(f"{variable}={value!r}: expected {expected}")


class EnvReader:
    """Typed readers over a mapping; empty strings count as unset."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def is_set(self, name: str) -> bool:
        return self.get(name) is not None

    def host(self, name: str, default: str) -> str:
        value = self.get(name)
        if value is None:
            return default
        if not (_HOST_RE.match(value) or ":" in value):
            raise SettingsError(name, value, "a host name or IP address")
        return value

    def optional_host(self, name: str) -> str | None:
        value = self.get(name)
        if value is not None and not _HOST_RE.match(value):
            raise SettingsError(name, value, "a domain name such as artdag.example.org")
        return value

    def redis_name(self, name: str, default: str) -> str:
        value = self.get(name)
        if value is None:
            return default
        if not _REDIS_NAME_RE.match(value):
            raise SettingsError(name, value, "1-100 of letters, digits and _ : . -")
        return value

    def port(self, name: str, default: int) -> int:
        value = self.get(name)
        if value is None:
            return default
        if not value.isdigit() or not 1 <= int(value) <= 65535:
            raise SettingsError(name, value, "an integer 1-65535")
        return int(value)

    def positive_int(self, name: str, default: int) -> int:
        value = self.get(name)
        if value is None:
            return default
        if not value.isdigit() or int(value) <= 0:
            raise SettingsError(name, value, "a positive integer (bytes)")
        return int(value)

    def count(self, name: str, default: int, maximum: int) -> int:
        """A whole number from 0 to ``maximum``."""
        value = self.get(name)
        if value is None:
            return default
        if not value.isdigit() or int(value) > maximum:
            raise SettingsError(name, value, f"a whole number from 0 to {maximum}")
        return int(value)

    def segment_seconds(self, name: str, default: float) -> float:
        value = self.get(name)
        if value is None:
            return default
        expected = "a number of seconds between 0.5 and 30"
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(name, value, expected) from None
        if not 0.5 <= number <= 30:
            raise SettingsError(name, value, expected)
        return number

    def part_seconds(self, name: str, container: str) -> float:
        """LL-HLS part length: 0 (off, the default) or 0.1-2 s, and only with fMP4."""
        value = self.get(name)
        if value is None:
            return 0.0
        expected = "0 (off) or a number of seconds between 0.1 and 2 (with HLS_CONTAINER=fmp4)"
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(name, value, expected) from None
        if number and (not 0.1 <= number <= 2 or container != "fmp4"):
            raise SettingsError(name, value, expected)
        return number

    def seconds(self, name: str, default: float) -> float:
        value = self.get(name)
        if value is None:
            return default
        expected = "a number of seconds between 0.1 and 3600"
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(name, value, expected) from None
        if not 0.1 <= number <= 3600:
            raise SettingsError(name, value, expected)
        return number

    def boolean(self, name: str, default: bool) -> bool:
        raw = self._environ.get(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise SettingsError(name, raw, "true or false (also 1/0, yes/no, on/off)")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.get(name)
        if value is None:
            return default
        if value not in choices:
            raise SettingsError(name, value, "one of " + ", ".join(choices))
        return value

    def url(self, name: str, default: str, schemes: tuple[str, ...]) -> str:
        value = self.get(name)
        if value is None:
            return default
        check_url(name, value, schemes)
        return value

    def optional_url(self, name: str, schemes: tuple[str, ...]) -> str | None:
        value = self.get(name)
        if value is not None:
            check_url(name, value, schemes)
        return value

    def optional_bucket(self, name: str) -> str | None:
        value = self.get(name)
        if value is not None and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value):
            raise SettingsError(name, value, "an S3 bucket name (3-63 of a-z 0-9 . -)")
        return value

    def path(self, name: str, default: str) -> Path:
        value = self.get(name) or default
        return Path(value).expanduser()

    def path_list(self, name: str) -> tuple[Path, ...]:
        value = self.get(name)
        if value is None:
            return ()
        roots = tuple(Path(p).expanduser() for p in value.split(os.pathsep) if p.strip())
        for root in roots:
            if not root.is_absolute():
                raise SettingsError(
                    name, value, f"absolute directories separated by {os.pathsep!r}"
                )
        return roots


def check_url(name: str, value: str, schemes: tuple[str, ...]) -> None:
    """Raise :class:`SettingsError` unless ``value`` is a URL with one of ``schemes`` and a host."""
    expected = "a URL starting with " + " or ".join(f"{s}://" for s in schemes)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise SettingsError(name, value, expected + " (with a valid port)") from None
    if parts.scheme not in schemes:
        raise SettingsError(name, value, expected)
    if parts.scheme != "unix" and not parts.hostname:
        raise SettingsError(name, value, expected + " and a host")
