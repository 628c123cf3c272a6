"""One picture of two members' home rows side by side, with the artwork each would see.

The artwork comes from any chooser ``(member_key, title_id) -> variant_id``; until the
artwork policy is trained, :class:`LoggedThemeChooser` picks, for each member, the
variant whose theme that member has answered best in their *logged* impressions
(fct_member_theme_daily's shrunk good-play affinity), never from the hidden truth.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from reelops.artwork.catalogue import ArtworkCatalogue
from reelops.artwork.render import render_image
from reelops.config import Settings
from reelops.warehouse import read_mart

Chooser = Callable[[str, str], str]
TILE = (240, 135)
COLUMNS = 2
GAP = 16
CAPTION_H = 26
HEADING_H = 64
MIN_EVIDENCE = 10  # impressions of a theme before a member's taste for it is shown


@dataclass(frozen=True)
class LoggedThemeChooser:
    """Each member's variant of the theme they have answered best, from logged plays only.

    Attributes:
        catalogue: The titles' variants.
        affinity: (member_key, theme) -> theme_affinity_28d as of ``as_of`` (1 = like
            everyone; a member or theme without evidence counts as 1).
        impressions: (member_key, theme) -> impressions of the theme in the 28 days.
        as_of: The feature day the affinities are from.
    """

    catalogue: ArtworkCatalogue
    affinity: dict[tuple[str, str], float]
    impressions: dict[tuple[str, str], int]
    as_of: date

    name = "logged-theme-affinity"

    @classmethod
    def from_marts(
        cls, settings: Settings, source: str, catalogue: ArtworkCatalogue, as_of: date | None = None
    ) -> LoggedThemeChooser:
        """Affinities from fct_member_theme_daily on ``as_of`` (its last day when None)."""
        daily = read_mart(settings, source, "fct_member_theme_daily")
        if daily.empty:
            raise ValueError(
                f"fct_member_theme_daily of source {source!r} is empty: the source logs no "
                "impressions with artwork, so there is no taste to choose by"
            )
        dates = pd.to_datetime(daily["feature_date"]).dt.date
        day = as_of or dates.max()
        rows = daily[dates == day]
        keys = list(zip(rows["member_key"], rows["theme"], strict=True))
        affinity = [1.0 if pd.isna(a) else float(a) for a in rows["theme_affinity_28d"]]
        return cls(
            catalogue,
            dict(zip(keys, affinity, strict=True)),
            dict(zip(keys, rows["impressions_28d"].astype(int), strict=True)),
            day,
        )

    def score(self, member_key: str, theme: str) -> float:
        return self.affinity.get((member_key, theme), 1.0)

    def __call__(self, member_key: str, title_id: str) -> str:
        variants = self.catalogue.variants(title_id)
        best = min(variants, key=lambda s: (-self.score(member_key, s.theme), s.variant_id))
        return best.variant_id

    def favourite(self, member_key: str) -> tuple[str, float]:
        """The member's best-answered theme with enough evidence, and its affinity."""
        known = [
            (theme, value)
            for (member, theme), value in self.affinity.items()
            if member == member_key and self.impressions[(member, theme)] >= MIN_EVIDENCE
        ]
        if not known:
            raise ValueError("the member has no theme with enough logged impressions")
        return max(known, key=lambda item: (item[1], item[0]))


@dataclass(frozen=True)
class MemberHome:
    """One member's panel: a heading and the titles of their home row, in order."""

    member_key: str
    heading: str
    title_ids: tuple[str, ...]


def two_members(
    chooser: LoggedThemeChooser, popularity: dict[str, float], n_titles: int = 6
) -> tuple[MemberHome, MemberHome]:
    """Two members whose favourite themes differ, and one shared row of titles that carry
    artwork of both themes, so that the same titles show different artwork to each.

    Members are ranked by how strongly they favour their best theme; the first pair with
    at least ``n_titles`` shared titles wins, and the row holds the most popular of them
    (``popularity``: title id -> plays; a title missing from it counts 0).

    Raises:
        ValueError: no two members with different favourite themes share enough titles.
    """
    members = sorted({member for member, _ in chooser.affinity})
    favourites = {}
    for member in members:
        try:
            favourites[member] = chooser.favourite(member)
        except ValueError:
            continue
    ranked = sorted(favourites, key=lambda m: (-favourites[m][1], m))
    titles_with = {}
    for title, specs in chooser.catalogue.titles.items():
        for spec in specs:
            titles_with.setdefault(spec.theme, []).append(title)
    for i, first in enumerate(ranked):
        for second in ranked[i + 1 :]:
            a, b = favourites[first][0], favourites[second][0]
            if a == b:
                continue
            shared = sorted(
                set(titles_with[a]) & set(titles_with[b]),
                key=lambda t: (-popularity.get(t, 0.0), t),
            )
            if len(shared) >= n_titles:
                row = tuple(shared[:n_titles])
                return (
                    MemberHome(first, _heading(first, *favourites[first]), row),
                    MemberHome(second, _heading(second, *favourites[second]), row),
                )
    raise ValueError(
        f"no two members with different favourite themes share {n_titles} titles carrying "
        "artwork of both themes"
    )


def _heading(member_key: str, theme: str, affinity: float) -> str:
    return f"member {member_key[:8]}… answers {theme} artwork best (affinity {affinity:.2f})"


def home_rows_picture(
    catalogue: ArtworkCatalogue,
    homes: Sequence[MemberHome],
    chooser: Chooser,
    *,
    title: str = "",
) -> Image.Image:
    """The members' panels side by side, each row's tiles showing the chosen variant.

    Args:
        catalogue: Where each chosen variant's spec comes from.
        homes: One panel per member, left to right.
        chooser: ``(member_key, title_id) -> variant_id``.
        title: A line above the panels.

    Returns:
        An RGB image.
    """
    rows = max(math.ceil(len(h.title_ids) / COLUMNS) for h in homes)
    panel_w = COLUMNS * TILE[0] + (COLUMNS + 1) * GAP
    top = 44 if title else GAP
    width = len(homes) * panel_w + (len(homes) + 1) * GAP
    height = top + HEADING_H + rows * (TILE[1] + CAPTION_H + GAP) + GAP
    picture = Image.new("RGB", (width, height), (20, 20, 24))
    draw = ImageDraw.Draw(picture)
    big, small = ImageFont.load_default(size=20), ImageFont.load_default(size=14)
    if title:
        draw.text((GAP, 12), title, font=big, fill=(255, 255, 255))
    for p, home in enumerate(homes):
        x0 = GAP + p * (panel_w + GAP)
        draw.rectangle((x0, top, x0 + panel_w, height - GAP), fill=(34, 34, 40))
        draw.text((x0 + GAP, top + 10), home.heading, font=small, fill=(255, 210, 120))
        draw.text(
            (x0 + GAP, top + 34), "Home row: popular this week", font=small, fill=(200, 200, 200)
        )
        for i, title_id in enumerate(home.title_ids):
            spec = catalogue.spec(title_id, chooser(home.member_key, title_id))
            x = x0 + GAP + (i % COLUMNS) * (TILE[0] + GAP)
            y = top + HEADING_H + (i // COLUMNS) * (TILE[1] + CAPTION_H + GAP)
            picture.paste(render_image(spec, TILE), (x, y))
            draw.text((x, y + TILE[1] + 5), f"{spec.variant_id}: {spec.theme}", font=small,
                      fill=(220, 220, 220))  # fmt: skip
    return picture


def write_two_members_picture(settings: Settings, source: str, path: Path) -> Path:
    """Pick two members from the logs, draw their home rows and save the PNG at ``path``.

    Raises:
        FileNotFoundError: the warehouse is not built; ValueError: no impressions to go by.
    """
    catalogue = ArtworkCatalogue.load(settings, source)
    chooser = LoggedThemeChooser.from_marts(settings, source, catalogue)
    titles = read_mart(settings, source, "fct_title_daily")
    last = titles[titles["feature_date"] == titles["feature_date"].max()]
    homes = two_members(chooser, dict(zip(last["title_id"], last["plays_7d"], strict=True)))
    picture = home_rows_picture(
        catalogue, homes, chooser,
        title=f"Same titles, artwork chosen per member ({chooser.name}, as of {chooser.as_of})",
    )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    picture.save(tmp, format="PNG")
    tmp.replace(path)
    return path
