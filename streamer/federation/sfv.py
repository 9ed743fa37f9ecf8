"""The part of RFC 8941 (Structured Field Values) that RFC 9421 signatures use.

``Signature-Input`` and ``Signature`` are dictionaries whose members are inner
lists of strings (the covered components) or byte sequences, each with
parameters (``created``, ``keyid``, ``alg``...). :func:`parse_dictionary`
reads them strictly (anything malformed raises :class:`SFVError`);
:func:`serialize_inner_list` writes the canonical form that the signature base
repeats as ``@signature-params``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

__all__ = ["Item", "SFVError", "Token", "parse_dictionary", "serialize_inner_list"]

Bare = str | int | float | bool | bytes | tuple["Item", ...]

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,3})?")
_BINARY = re.compile(r":([A-Za-z0-9+/=]*):")
_MAX_LEN = 16 * 1024


class SFVError(ValueError):
    """A structured header is malformed."""


class Token(str):
    """A token (written bare, unlike a string, which is quoted)."""

    __slots__ = ()


@dataclass(frozen=True)
class Item:
    """A value with its parameters (an inner list's value is a tuple of items)."""

    value: Bare
    params: dict[str, str | int | float | bool | bytes] = field(default_factory=dict)


class _Reader:
    def __init__(self, text: str) -> None:
        if len(text) > _MAX_LEN:
            raise SFVError(f"structured header longer than {_MAX_LEN} characters")
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise SFVError(f"expected {char!r} at {self.pos}")
        self.pos += 1

    def match(self, pattern: re.Pattern[str]) -> re.Match[str]:
        found = pattern.match(self.text, self.pos)
        if found is None:
            raise SFVError(f"unexpected {self.text[self.pos : self.pos + 10]!r} at {self.pos}")
        self.pos = found.end()
        return found

    def key(self) -> str:
        return self.match(_KEY).group()

    def bare(self) -> str | int | float | bool | bytes:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == ":":
            try:
                return base64.b64decode(self.match(_BINARY).group(1), validate=True)
            except binascii.Error:
                raise SFVError("bad base64 in a byte sequence") from None
        if char == "?":
            self.pos += 1
            flag = self.peek()
            if flag not in ("0", "1"):
                raise SFVError("bad boolean")
            self.pos += 1
            return flag == "1"
        if char == "-" or char.isdigit():
            number = self.match(_NUMBER)
            return float(number.group()) if number.group(1) else int(number.group())
        return Token(self.match(_TOKEN).group())

    def string(self) -> str:
        self.expect('"')
        out: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise SFVError("unterminated string")
            self.pos += 1
            if char == '"':
                return "".join(out)
            if char == "\\":
                char = self.peek()
                if char not in ('"', "\\"):
                    raise SFVError("bad escape in a string")
                self.pos += 1
            elif not " " <= char <= "~":
                raise SFVError("non-printable character in a string")
            out.append(char)

    def params(self) -> dict[str, str | int | float | bool | bytes]:
        params: dict[str, str | int | float | bool | bytes] = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip(" ")
            name = self.key()
            value: str | int | float | bool | bytes = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare()
            params[name] = value
        return params

    def item_or_inner_list(self) -> Item:
        if self.peek() != "(":
            return Item(self.bare(), self.params())
        self.pos += 1
        members: list[Item] = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.pos += 1
                return Item(tuple(members), self.params())
            members.append(Item(self.bare(), self.params()))
            if self.peek() not in (" ", ")"):
                raise SFVError(f"expected ' ' or ')' at {self.pos}")


def parse_dictionary(text: str) -> dict[str, Item]:
    """Parse an RFC 8941 dictionary (``a=(...);p=1, b=:...:``).

    Raises:
        SFVError: malformed.
    """
    reader = _Reader(text.strip(" \t"))
    members: dict[str, Item] = {}
    while reader.peek():
        name = reader.key()
        if reader.peek() == "=":
            reader.pos += 1
            members[name] = reader.item_or_inner_list()
        else:
            members[name] = Item(True, reader.params())
        reader.skip(" \t")
        if not reader.peek():
            break
        reader.expect(",")
        reader.skip(" \t")
        if not reader.peek():
            raise SFVError("trailing comma")
    return members


def _bare(value: str | int | float | bool | bytes) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode() + ":"
    if isinstance(value, Token):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _params(params: dict[str, str | int | float | bool | bytes]) -> str:
    return "".join(f";{k}" if v is True else f";{k}={_bare(v)}" for k, v in params.items())


def serialize_inner_list(item: Item) -> str:
    """The canonical text of an inner list with parameters (``("@method" "@path");created=1``)."""
    if not isinstance(item.value, tuple):
        raise SFVError("not an inner list")
    inner = " ".join(_bare(member.value) + _params(member.params) for member in item.value)  # type: ignore[arg-type]
    return f"({inner}){_params(item.params)}"
