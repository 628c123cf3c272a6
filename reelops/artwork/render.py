"""Artwork variants rendered as PNG: the theme's palette, the title's name, a focal element.

The synthetic world describes a variant by its theme only, so the theme picks the palette
and the focal element (a starburst for ``action-shot``, a moon over a lone figure for
``dark-moody``, ...); the title and variant ids jitter its layout, so two variants of one
theme still differ. Everything derives from the inputs through SHA-256, never from
Python's salted ``hash``: the same inputs give the same bytes in every process.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

Color = tuple[int, int, int]
SIZE: tuple[int, int] = (400, 225)  # landscape 16:9, as a home row's tiles
MIN_SIZE, MAX_SIZE = 64, 2048


@dataclass(frozen=True)
class Palette:
    """A theme's colours: the background gradient, the focal element and the text."""

    top: Color
    bottom: Color
    accent: Color
    text: Color


PALETTES: dict[str, Palette] = {
    "action-shot": Palette((35, 8, 0), (205, 70, 15), (255, 205, 40), (255, 250, 235)),
    "romance-couple": Palette((95, 10, 45), (235, 120, 160), (255, 225, 235), (255, 255, 255)),
    "ensemble": Palette((10, 60, 75), (40, 160, 150), (250, 215, 90), (255, 255, 255)),
    "dark-moody": Palette((5, 5, 20), (45, 35, 80), (200, 205, 230), (220, 220, 235)),
    "comedic": Palette((255, 200, 20), (255, 120, 60), (40, 30, 30), (35, 20, 20)),
    "landscape": Palette((110, 180, 235), (60, 130, 70), (250, 240, 200), (255, 255, 255)),
    "character-closeup": Palette((60, 30, 15), (180, 110, 60), (245, 215, 175), (255, 245, 230)),
    "family": Palette((150, 220, 245), (160, 225, 140), (250, 110, 80), (25, 45, 70)),
}


@dataclass(frozen=True)
class ArtworkSpec:
    """What one variant's image is drawn from."""

    title_id: str
    variant_id: str
    title_name: str
    theme: str


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


def palette(theme: str) -> Palette:
    """The theme's palette; a theme without one gets colours derived from its name."""
    if theme in PALETTES:
        return PALETTES[theme]
    d = _digest("palette", theme)
    top = (d[0] // 3, d[1] // 3, d[2] // 3)
    bottom = (80 + d[3] // 2, 80 + d[4] // 2, 80 + d[5] // 2)
    return Palette(top, bottom, (255 - d[6] // 4, 255 - d[7] // 4, 200), (255, 255, 255))


def _gradient(size: tuple[int, int], top: Color, bottom: Color) -> Image.Image:
    width, height = size
    column = Image.new("RGB", (1, height))
    for y in range(height):
        t = y / max(height - 1, 1)
        column.putpixel(
            (0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    return column.resize((width, height))


def _figure(draw: ImageDraw.ImageDraw, x: float, base: float, height: float, fill) -> None:
    """A standing silhouette: head and shoulders on a rounded body."""
    head = height * 0.22
    draw.ellipse((x - head / 2, base - height, x + head / 2, base - height + head), fill=fill)
    body_top = base - height + head * 1.1
    draw.rounded_rectangle(
        (x - head * 0.8, body_top, x + head * 0.8, base), radius=head * 0.5, fill=fill
    )


def _action(draw, w, h, pal, rnd) -> None:
    cx, cy = w * rnd.uniform(0.55, 0.75), h * rnd.uniform(0.3, 0.45)
    points = []
    for i in range(24):
        radius = (h * 0.42 if i % 2 == 0 else h * 0.17) * rnd.uniform(0.85, 1.1)
        angle = i * math.pi / 12
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=pal.accent)
    for i in range(6):
        y = h * (0.15 + 0.1 * i)
        draw.line((w * 0.05, y + h * 0.1, w * 0.4, y), fill=pal.accent, width=3)


def _romance(draw, w, h, pal, rnd) -> None:
    cx, base = w * rnd.uniform(0.5, 0.7), h * 0.78
    _figure(draw, cx - h * 0.1, base, h * 0.6, pal.top)
    _figure(draw, cx + h * 0.1, base, h * 0.55, pal.top)
    _heart(draw, cx, h * 0.12, h * 0.14, pal.accent)


def _heart(draw, cx, top, size, fill) -> None:
    draw.ellipse((cx - size, top, cx, top + size), fill=fill)
    draw.ellipse((cx, top, cx + size, top + size), fill=fill)
    draw.polygon([(cx - size, top + size * 0.55), (cx + size, top + size * 0.55),
                  (cx, top + size * 1.6)], fill=fill)  # fmt: skip


def _ensemble(draw, w, h, pal, rnd) -> None:
    n = 5
    for i in range(n):
        height = h * rnd.uniform(0.45, 0.65)
        _figure(draw, w * (0.18 + 0.16 * i), h * 0.8, height, pal.accent if i == 2 else pal.top)


def _dark(draw, w, h, pal, rnd) -> None:
    mx, my, r = w * rnd.uniform(0.65, 0.85), h * 0.25, h * 0.16
    draw.ellipse((mx - r, my - r, mx + r, my + r), fill=pal.accent)
    draw.ellipse((mx - r * 0.55, my - r * 1.1, mx + r * 1.3, my + r * 0.8), fill=pal.top)
    _figure(draw, w * rnd.uniform(0.25, 0.45), h * 0.8, h * 0.45, (0, 0, 0))
    for i in range(3):
        y = h * (0.6 + 0.07 * i)
        draw.rectangle((0, y, w, y + 3), fill=pal.bottom)


def _comedic(draw, w, h, pal, rnd) -> None:
    cx, cy, r = w * rnd.uniform(0.55, 0.7), h * 0.42, h * 0.3
    draw.ellipse(
        (cx - r, cy - r, cx + r, cy + r), fill=(255, 240, 120), outline=pal.accent, width=4
    )
    for dx in (-0.35, 0.35):
        ex = cx + dx * r
        draw.ellipse((ex - r * 0.1, cy - r * 0.35, ex + r * 0.1, cy - r * 0.1), fill=pal.accent)
    draw.arc((cx - r * 0.6, cy - r * 0.3, cx + r * 0.6, cy + r * 0.65), 15, 165, pal.accent, 5)


def _landscape(draw, w, h, pal, rnd) -> None:
    sx, sy, r = w * rnd.uniform(0.6, 0.85), h * 0.22, h * 0.1
    draw.ellipse((sx - r, sy - r, sx + r, sy + r), fill=pal.accent)
    for i in range(3):
        peak = w * rnd.uniform(0.1 + 0.3 * i, 0.3 + 0.3 * i)
        shade = tuple(max(c - 30 * i, 0) for c in pal.bottom)
        draw.polygon([(peak - w * 0.3, h), (peak, h * rnd.uniform(0.3, 0.5)),
                      (peak + w * 0.3, h)], fill=shade)  # fmt: skip


def _closeup(draw, w, h, pal, rnd) -> None:
    cx, cy = w * rnd.uniform(0.55, 0.7), h * 0.5
    draw.ellipse((cx - h * 0.3, cy - h * 0.42, cx + h * 0.3, cy + h * 0.42), fill=pal.accent)
    for dx in (-0.11, 0.11):
        ex = cx + dx * h
        draw.ellipse((ex - h * 0.04, cy - h * 0.1, ex + h * 0.04, cy - h * 0.04), fill=pal.top)
    draw.line((cx - h * 0.08, cy + h * 0.17, cx + h * 0.08, cy + h * 0.17), fill=pal.top, width=3)


def _family(draw, w, h, pal, rnd) -> None:
    hx = w * rnd.uniform(0.62, 0.78)
    draw.rectangle((hx - h * 0.2, h * 0.45, hx + h * 0.2, h * 0.8), fill=(250, 245, 230))
    draw.polygon([(hx - h * 0.26, h * 0.47), (hx, h * 0.2), (hx + h * 0.26, h * 0.47)],
                 fill=pal.accent)  # fmt: skip
    for i, height in enumerate((0.5, 0.42, 0.28)):
        _figure(draw, w * (0.2 + 0.12 * i), h * 0.8, h * height, pal.text)


def _abstract(draw, w, h, pal, rnd) -> None:
    for _ in range(6):
        x, y, r = rnd.uniform(0.3, 0.9) * w, rnd.uniform(0.1, 0.6) * h, rnd.uniform(0.05, 0.2) * h
        draw.ellipse((x - r, y - r, x + r, y + r), outline=pal.accent, width=4)


FOCAL: dict[str, Callable] = {
    "action-shot": _action,
    "romance-couple": _romance,
    "ensemble": _ensemble,
    "dark-moody": _dark,
    "comedic": _comedic,
    "landscape": _landscape,
    "character-closeup": _closeup,
    "family": _family,
}


def _wrapped(draw, text: str, font, width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines[:3]


def render_image(spec: ArtworkSpec, size: tuple[int, int] = SIZE) -> Image.Image:
    """Draw one variant.

    Args:
        spec: The title, variant and theme.
        size: (width, height) in pixels, each in [64, 2048].

    Returns:
        An RGB image.

    Raises:
        ValueError: ``size`` is out of bounds.
    """
    width, height = size
    if not (MIN_SIZE <= width <= MAX_SIZE and MIN_SIZE <= height <= MAX_SIZE):
        raise ValueError(f"size must be within [{MIN_SIZE}, {MAX_SIZE}] pixels, got {size}")
    pal = palette(spec.theme)
    rnd = random.Random(_digest("layout", spec.title_id, spec.variant_id, spec.theme))
    image = _gradient(size, pal.top, pal.bottom)
    draw = ImageDraw.Draw(image)
    FOCAL.get(spec.theme, _abstract)(draw, width, height, pal, rnd)

    # The name on a dark band at the bottom, the theme in small type at the top left.
    font = ImageFont.load_default(size=max(10, height // 9))
    lines = _wrapped(draw, spec.title_name or spec.title_id, font, width * 0.9)
    line_h = font.size * 1.15
    band_top = height - line_h * len(lines) - height * 0.06
    band = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(band).rectangle((0, band_top, width, height), fill=(0, 0, 0, 150))
    image = Image.alpha_composite(image.convert("RGBA"), band).convert("RGB")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((width * 0.05, band_top + height * 0.03 + i * line_h), line, font=font,
                  fill=(255, 255, 255))  # fmt: skip
    small = ImageFont.load_default(size=max(8, height // 18))
    draw.text((width * 0.04, height * 0.04), spec.theme, font=small, fill=pal.text)
    return image


def render_png(spec: ArtworkSpec, size: tuple[int, int] = SIZE) -> bytes:
    """The variant as PNG bytes (no metadata, so equal inputs give equal bytes)."""
    buffer = io.BytesIO()
    render_image(spec, size).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
