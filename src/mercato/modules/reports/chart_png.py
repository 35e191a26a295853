"""A bar chart as PNG bytes, drawn with Pillow, for e-mail.

Mail clients are the reason for PNG: Gmail and Outlook show neither SVG nor `data:` URIs
in messages, while a PNG attached as a related part and referenced by `cid:` shows
everywhere (and is not blocked as a remote image).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 560, 180
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 12, 14, 26
BAR = (37, 99, 235)
GRID = (226, 232, 240)
INK = (71, 85, 105)


def bar_chart_png(points: Sequence[tuple[str, float]]) -> bytes:
    """Bars for (label, value) pairs; the first and last labels and the maximum are written."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    top = max((value for _, value in points), default=0.0) or 1.0
    for i in range(5):
        y = PAD_TOP + plot_h * i / 4
        draw.line([(PAD_LEFT, y), (WIDTH - PAD_RIGHT, y)], fill=GRID)
    draw.text((4, PAD_TOP - 6), f"{top:,.0f}", fill=INK)
    draw.text((4, PAD_TOP + plot_h - 6), "0", fill=INK)
    if points:
        slot = plot_w / len(points)
        for index, (_, value) in enumerate(points):
            height = plot_h * (value / top)
            x0 = PAD_LEFT + index * slot + slot * 0.15
            x1 = PAD_LEFT + (index + 1) * slot - slot * 0.15
            draw.rectangle([(x0, PAD_TOP + plot_h - height), (x1, PAD_TOP + plot_h)], fill=BAR)
        draw.text((PAD_LEFT, HEIGHT - PAD_BOTTOM + 8), points[0][0], fill=INK)
        last = points[-1][0]
        draw.text((WIDTH - PAD_RIGHT - 6 * len(last), HEIGHT - PAD_BOTTOM + 8), last, fill=INK)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
