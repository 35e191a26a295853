from __future__ import annotations

import io
from typing import Any

from PIL import Image

from mercato.simulation.catalog import generate_catalog
from mercato.simulation.images import render_product_image


def _product(**overrides: Any) -> dict[str, Any]:
    product: dict[str, Any] = {
        "product_id": "SKU-1",
        "name": "Alba corner sofa, velvet, navy",
        "brand": "Hollowmere",
        "category": "Furniture > Living room > Sofas",
        "attributes": {"color": "Navy"},
    }
    return product | overrides


def _open(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png))


def test_image_is_a_600_pixel_square_png() -> None:
    png = render_product_image(_product())
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = _open(png)
    assert image.format == "PNG"
    assert image.size == (600, 600)


def test_requested_size_is_honoured() -> None:
    assert _open(render_product_image(_product(), size=200)).size == (200, 200)


def test_same_product_gives_the_same_bytes_and_others_differ() -> None:
    products = generate_catalog(products=30, seed=4).products
    images = [render_product_image(p) for p in products]
    assert images == [render_product_image(p) for p in products]
    assert len(set(images)) == len(images)


def test_background_follows_the_product_colour() -> None:
    navy = _open(render_product_image(_product())).convert("RGB").getpixel((5, 5))
    rust = _open(render_product_image(_product(attributes={"color": "Rust"}))).convert("RGB")
    red, _, blue = rust.getpixel((5, 5))  # type: ignore[misc]
    assert navy[2] > navy[0]  # type: ignore[index]
    assert red > blue


def test_departments_get_different_silhouettes() -> None:
    centres = set()
    for department in ("Furniture", "Home", "Lighting", "Electronics", "Garden", "Other"):
        png = render_product_image(_product(category=f"{department} > X", name="Same name"))
        image = _open(png).convert("L").resize((12, 12))
        centres.add(image.tobytes())
    assert len(centres) == 6
