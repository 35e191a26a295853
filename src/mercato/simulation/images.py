"""Product pictures drawn locally for the demo catalog, so the demo never downloads images.

Each picture is a flat illustration: a background tinted from the product's colour, a
simple silhouette for its department (a sofa, a lamp, a vase, a speaker, a tree) and the
product's name and brand. The same product always gives the same PNG bytes.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from mercato.simulation.departments import COLOURS

Colour = tuple[int, int, int]
Box = tuple[float, float, float, float]


def render_product_image(product: Mapping[str, Any], *, size: int = 600) -> bytes:
    """A `size` by `size` PNG for a product document (uses its name, brand, category, colour)."""
    colour = _product_colour(product)
    image = Image.new("RGB", (size, size), _mix(colour, (255, 255, 255), 0.82))
    draw = ImageDraw.Draw(image)
    department = str(product.get("category") or "").split(" > ")[0]
    silhouette = _SILHOUETTES.get(department, _parcel)
    silhouette(draw, (size * 0.2, size * 0.12, size * 0.8, size * 0.62), colour)
    _caption(draw, size, str(product.get("name") or ""), str(product.get("brand") or ""))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _product_colour(product: Mapping[str, Any]) -> Colour:
    attributes = product.get("attributes") or {}
    named = COLOURS.get(str(attributes.get("color", "")))
    if named:
        return named
    digest = hashlib.sha256(str(product.get("product_id", "")).encode()).digest()
    return (60 + digest[0] % 160, 60 + digest[1] % 160, 60 + digest[2] % 160)


def _mix(colour: Colour, other: Colour, share: float) -> Colour:
    r, g, b = (round(c * (1 - share) + o * share) for c, o in zip(colour, other, strict=True))
    return (r, g, b)


def _shade(colour: Colour) -> Colour:
    return _mix(colour, (0, 0, 0), 0.3)


def _sofa(draw: ImageDraw.ImageDraw, box: Box, colour: Colour) -> None:
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    seat_top = top + height * 0.45
    draw.rounded_rectangle((left, top + height * 0.15, right, seat_top + 10), 24, fill=colour)
    draw.rounded_rectangle(
        (left - 10, seat_top, right + 10, bottom - height * 0.12), 20, fill=_shade(colour)
    )
    for x in (left + width * 0.06, right - width * 0.1):
        draw.rectangle((x, bottom - height * 0.12, x + width * 0.04, bottom), fill=(60, 48, 40))


def _vase(draw: ImageDraw.ImageDraw, box: Box, colour: Colour) -> None:
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    draw.ellipse(
        (left + width * 0.15, top + height * 0.3, right - width * 0.15, bottom), fill=colour
    )
    draw.rectangle(
        (left + width * 0.38, top, right - width * 0.38, top + height * 0.4), fill=colour
    )
    draw.ellipse(
        (left + width * 0.33, top - 8, right - width * 0.33, top + 16), fill=_shade(colour)
    )


def _lamp(draw: ImageDraw.ImageDraw, box: Box, colour: Colour) -> None:
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    middle = left + width / 2
    shade = [(middle - width * 0.12, top), (middle + width * 0.12, top)]
    shade += [
        (middle + width * 0.3, top + height * 0.35),
        (middle - width * 0.3, top + height * 0.35),
    ]
    draw.polygon(shade, fill=colour)
    draw.rectangle((middle - 5, top + height * 0.35, middle + 5, bottom - 14), fill=(70, 70, 70))
    draw.ellipse(
        (middle - width * 0.18, bottom - 24, middle + width * 0.18, bottom), fill=_shade(colour)
    )


def _speaker(draw: ImageDraw.ImageDraw, box: Box, colour: Colour) -> None:
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    body = (left + width * 0.22, top, right - width * 0.22, bottom)
    draw.rounded_rectangle(body, 28, fill=colour)
    middle = left + width / 2
    for centre_y, radius in (
        (top + height * 0.28, width * 0.1),
        (top + height * 0.66, width * 0.17),
    ):
        draw.ellipse(
            (middle - radius, centre_y - radius, middle + radius, centre_y + radius),
            fill=_shade(colour),
        )


def _tree(draw: ImageDraw.ImageDraw, box: Box, colour: Colour) -> None:
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    middle = left + width / 2
    draw.rectangle(
        (middle - 10, top + height * 0.55, middle + 10, bottom - height * 0.2), fill=(96, 70, 50)
    )
    draw.ellipse((left + width * 0.15, top, right - width * 0.15, top + height * 0.62), fill=colour)
    pot = [
        (middle - width * 0.2, bottom - height * 0.22),
        (middle + width * 0.2, bottom - height * 0.22),
    ]
    pot += [(middle + width * 0.15, bottom), (middle - width * 0.15, bottom)]
    draw.polygon(pot, fill=(176, 96, 64))


def _parcel(draw: ImageDraw.ImageDraw, box: Box, colour: Colour) -> None:
    left, top, right, bottom = box
    draw.rounded_rectangle((left + 30, top + 20, right - 30, bottom), 16, fill=colour)
    middle = (left + right) / 2
    draw.rectangle((middle - 8, top + 20, middle + 8, bottom), fill=_shade(colour))


_SILHOUETTES: dict[str, Callable[[ImageDraw.ImageDraw, Box, Colour], None]] = {
    "Furniture": _sofa,
    "Home": _vase,
    "Lighting": _lamp,
    "Electronics": _speaker,
    "Garden": _tree,
}


def _caption(draw: ImageDraw.ImageDraw, size: int, name: str, brand: str) -> None:
    title = ImageFont.load_default(size=max(12, size // 20))
    small = ImageFont.load_default(size=max(10, size // 30))
    y = size * 0.7
    for line in textwrap.wrap(name, width=28)[:3]:
        draw.text((size / 2, y), line, font=title, fill=(40, 40, 40), anchor="mt")
        y += size / 17
    draw.text((size / 2, size * 0.94), brand.upper(), font=small, fill=(90, 90, 90), anchor="mb")
