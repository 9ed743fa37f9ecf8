"""Colour values as recipes write them: ``[r, g, b]``, hex (``#rgb``, ``#rrggbb``, ...), CSS names.

Every place that takes a colour (colour and gradient generators, ``tint``,
``chroma_key``) accepts the same spellings, case-insensitively:

- ``[r, g, b]`` with each channel a number in 0..255;
- ``#rgb``, ``#rrggbb`` (each digit pair one channel), and ``#rgba`` /
  ``#rrggbbaa`` with an alpha that must be opaque (``f`` / ``ff``): frames
  carry no alpha channel, so a translucent colour has no meaning where a
  colour is taken (use the opacity of LAYER / BLEND or the amount of
  ``tint`` for that);
- the 148 named colours of CSS Color Module Level 4 (:data:`CSS_COLORS`;
  ``grey`` and ``gray`` spellings alike).

:func:`parse_color` turns any of them into the canonical ``(r, g, b)``; a
recipe stores that, so equivalent spellings give the same recipe id.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["CSS_COLORS", "ColorError", "canonical_color", "parse_color"]

#: CSS Color Module Level 4 named colours (lower case) -> (r, g, b).
CSS_COLORS: Mapping[str, tuple[int, int, int]] = {
    "aliceblue": (240, 248, 255),
    "antiquewhite": (250, 235, 215),
    "aqua": (0, 255, 255),
    "aquamarine": (127, 255, 212),
    "azure": (240, 255, 255),
    "beige": (245, 245, 220),
    "bisque": (255, 228, 196),
    "black": (0, 0, 0),
    "blanchedalmond": (255, 235, 205),
    "blue": (0, 0, 255),
    "blueviolet": (138, 43, 226),
    "brown": (165, 42, 42),
    "burlywood": (222, 184, 135),
    "cadetblue": (95, 158, 160),
    "chartreuse": (127, 255, 0),
    "chocolate": (210, 105, 30),
    "coral": (255, 127, 80),
    "cornflowerblue": (100, 149, 237),
    "cornsilk": (255, 248, 220),
    "crimson": (220, 20, 60),
    "cyan": (0, 255, 255),
    "darkblue": (0, 0, 139),
    "darkcyan": (0, 139, 139),
    "darkgoldenrod": (184, 134, 11),
    "darkgray": (169, 169, 169),
    "darkgreen": (0, 100, 0),
    "darkgrey": (169, 169, 169),
    "darkkhaki": (189, 183, 107),
    "darkmagenta": (139, 0, 139),
    "darkolivegreen": (85, 107, 47),
    "darkorange": (255, 140, 0),
    "darkorchid": (153, 50, 204),
    "darkred": (139, 0, 0),
    "darksalmon": (233, 150, 122),
    "darkseagreen": (143, 188, 143),
    "darkslateblue": (72, 61, 139),
    "darkslategray": (47, 79, 79),
    "darkslategrey": (47, 79, 79),
    "darkturquoise": (0, 206, 209),
    "darkviolet": (148, 0, 211),
    "deeppink": (255, 20, 147),
    "deepskyblue": (0, 191, 255),
    "dimgray": (105, 105, 105),
    "dimgrey": (105, 105, 105),
    "dodgerblue": (30, 144, 255),
    "firebrick": (178, 34, 34),
    "floralwhite": (255, 250, 240),
    "forestgreen": (34, 139, 34),
    "fuchsia": (255, 0, 255),
    "gainsboro": (220, 220, 220),
    "ghostwhite": (248, 248, 255),
    "gold": (255, 215, 0),
    "goldenrod": (218, 165, 32),
    "gray": (128, 128, 128),
    "green": (0, 128, 0),
    "greenyellow": (173, 255, 47),
    "grey": (128, 128, 128),
    "honeydew": (240, 255, 240),
    "hotpink": (255, 105, 180),
    "indianred": (205, 92, 92),
    "indigo": (75, 0, 130),
    "ivory": (255, 255, 240),
    "khaki": (240, 230, 140),
    "lavender": (230, 230, 250),
    "lavenderblush": (255, 240, 245),
    "lawngreen": (124, 252, 0),
    "lemonchiffon": (255, 250, 205),
    "lightblue": (173, 216, 230),
    "lightcoral": (240, 128, 128),
    "lightcyan": (224, 255, 255),
    "lightgoldenrodyellow": (250, 250, 210),
    "lightgray": (211, 211, 211),
    "lightgreen": (144, 238, 144),
    "lightgrey": (211, 211, 211),
    "lightpink": (255, 182, 193),
    "lightsalmon": (255, 160, 122),
    "lightseagreen": (32, 178, 170),
    "lightskyblue": (135, 206, 250),
    "lightslategray": (119, 136, 153),
    "lightslategrey": (119, 136, 153),
    "lightsteelblue": (176, 196, 222),
    "lightyellow": (255, 255, 224),
    "lime": (0, 255, 0),
    "limegreen": (50, 205, 50),
    "linen": (250, 240, 230),
    "magenta": (255, 0, 255),
    "maroon": (128, 0, 0),
    "mediumaquamarine": (102, 205, 170),
    "mediumblue": (0, 0, 205),
    "mediumorchid": (186, 85, 211),
    "mediumpurple": (147, 112, 219),
    "mediumseagreen": (60, 179, 113),
    "mediumslateblue": (123, 104, 238),
    "mediumspringgreen": (0, 250, 154),
    "mediumturquoise": (72, 209, 204),
    "mediumvioletred": (199, 21, 133),
    "midnightblue": (25, 25, 112),
    "mintcream": (245, 255, 250),
    "mistyrose": (255, 228, 225),
    "moccasin": (255, 228, 181),
    "navajowhite": (255, 222, 173),
    "navy": (0, 0, 128),
    "oldlace": (253, 245, 230),
    "olive": (128, 128, 0),
    "olivedrab": (107, 142, 35),
    "orange": (255, 165, 0),
    "orangered": (255, 69, 0),
    "orchid": (218, 112, 214),
    "palegoldenrod": (238, 232, 170),
    "palegreen": (152, 251, 152),
    "paleturquoise": (175, 238, 238),
    "palevioletred": (219, 112, 147),
    "papayawhip": (255, 239, 213),
    "peachpuff": (255, 218, 185),
    "peru": (205, 133, 63),
    "pink": (255, 192, 203),
    "plum": (221, 160, 221),
    "powderblue": (176, 224, 230),
    "purple": (128, 0, 128),
    "rebeccapurple": (102, 51, 153),
    "red": (255, 0, 0),
    "rosybrown": (188, 143, 143),
    "royalblue": (65, 105, 225),
    "saddlebrown": (139, 69, 19),
    "salmon": (250, 128, 114),
    "sandybrown": (244, 164, 96),
    "seagreen": (46, 139, 87),
    "seashell": (255, 245, 238),
    "sienna": (160, 82, 45),
    "silver": (192, 192, 192),
    "skyblue": (135, 206, 235),
    "slateblue": (106, 90, 205),
    "slategray": (112, 128, 144),
    "slategrey": (112, 128, 144),
    "snow": (255, 250, 250),
    "springgreen": (0, 255, 127),
    "steelblue": (70, 130, 180),
    "tan": (210, 180, 140),
    "teal": (0, 128, 128),
    "thistle": (216, 191, 216),
    "tomato": (255, 99, 71),
    "turquoise": (64, 224, 208),
    "violet": (238, 130, 238),
    "wheat": (245, 222, 179),
    "white": (255, 255, 255),
    "whitesmoke": (245, 245, 245),
    "yellow": (255, 255, 0),
    "yellowgreen": (154, 205, 50),
}

_HEX = re.compile(r"#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_FORMS = "[r, g, b] in 0..255, #rrggbb, #rgb or a CSS colour name"


class ColorError(ValueError):
    """A value that is not a colour.

    Attributes:
        message: What is wrong, without the owner's name.
        hint: What would be accepted (a close colour name when there is one).
    """

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(message + (f" ({hint})" if hint else ""))


def _channel(c: Any) -> bool:
    return isinstance(c, int | float) and not isinstance(c, bool) and 0 <= c <= 255


def _hex(text: str) -> tuple[float, float, float]:
    digits = text[1:]
    if len(digits) in (3, 4):
        digits = "".join(d * 2 for d in digits)
    rgb = tuple(float(int(digits[i : i + 2], 16)) for i in (0, 2, 4))
    alpha = digits[6:]
    if alpha and alpha.lower() != "ff":
        raise ColorError(
            f"{text!r} has alpha {int(alpha, 16)}/255, but colours here are opaque",
            f"drop the alpha ({text[:7] if len(text) > 5 else text[:4]}); "
            "for translucency use LAYER/BLEND opacity or the tint amount",
        )
    return rgb[0], rgb[1], rgb[2]


def _name(text: str) -> tuple[float, float, float]:
    key = text.strip().lower()
    if key in CSS_COLORS:
        r, g, b = CSS_COLORS[key]
        return float(r), float(g), float(b)
    if key.startswith("#"):
        raise ColorError(
            f"{text!r} is not a hex colour", "write #rgb or #rrggbb with hex digits 0-9, a-f"
        )
    if key.startswith(("rgb(", "rgba(", "hsl(")):
        raise ColorError(f"{text!r}: colour functions are not accepted", f"write {_FORMS}")
    close = difflib.get_close_matches(key.replace(" ", ""), list(CSS_COLORS), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"write {_FORMS}"
    raise ColorError(f"unknown colour {text!r}", hint)


def parse_color(value: Any) -> tuple[float, float, float]:
    """The ``(r, g, b)`` (0..255 each) of a colour value.

    Args:
        value: ``[r, g, b]`` / ``(r, g, b)`` numbers, ``"#rrggbb"`` (or
            ``#rgb``, opaque ``#rrggbbaa`` / ``#rgba``) or a CSS colour name.

    Raises:
        ColorError: Anything else, a translucent alpha, or a channel out of 0..255.
    """
    if isinstance(value, str):
        text = value.strip()
        if _HEX.fullmatch(text):
            return _hex(text)
        return _name(text)
    if isinstance(value, list | tuple) and len(value) == 3 and all(_channel(c) for c in value):
        return float(value[0]), float(value[1]), float(value[2])
    if isinstance(value, list | tuple) and len(value) == 3:
        bad = next(c for c in value if not _channel(c))
        raise ColorError(f"channel {bad!r} of {list(value)!r} is not a number in 0..255")
    if isinstance(value, list | tuple) and len(value) == 4:
        raise ColorError(
            f"expected [r, g, b], got {list(value)!r}",
            "colours here are opaque: drop the fourth (alpha) value",
        )
    raise ColorError(f"expected a colour, got {value!r}", f"write {_FORMS}")


def canonical_color(value: Any) -> list[int | float]:
    """The canonical recipe form of a colour: ``[r, g, b]``, whole channels as ints.

    Raises:
        ColorError: ``value`` is not a colour (see :func:`parse_color`).
    """
    return [int(c) if c.is_integer() else c for c in parse_color(value)]
