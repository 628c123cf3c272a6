"""Artwork rendering, the catalogue, the image endpoint and the two-member picture (no world)."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from starlette.testclient import TestClient

from reelops.artwork.catalogue import ArtworkCatalogue, ArtworkNotFound
from reelops.artwork.home_picture import (
    TILE,
    LoggedThemeChooser,
    home_rows_picture,
    two_members,
)
from reelops.artwork.render import PALETTES, SIZE, ArtworkSpec, render_image, render_png
from reelops.config import Settings
from reelops.serving.artwork import ArtworkImages, artwork_app

THEMES = ("dark-moody", "comedic", "family", "landscape")


@pytest.fixture(scope="module")
def catalogue() -> ArtworkCatalogue:
    """Eight titles, each with one variant of every theme in THEMES."""
    rows = [
        {"title_id": f"t{t}", "variant_id": f"t{t}-v{v + 1}", "theme": theme,
         "title_name": f"Title number {t}"}
        for t in range(8) for v, theme in enumerate(THEMES)
    ]  # fmt: skip
    return ArtworkCatalogue.from_frame(pd.DataFrame(rows))


def _decode(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB"))


def test_a_variant_renders_as_a_deterministic_png_of_the_asked_size():
    spec = ArtworkSpec("t1", "t1-v1", "The Long Night", "dark-moody")
    png = render_png(spec)
    assert png == render_png(spec)  # same inputs, same bytes
    assert _decode(png).shape == (SIZE[1], SIZE[0], 3)
    assert _decode(render_png(spec, (200, 300))).shape == (300, 200, 3)
    other = render_png(ArtworkSpec("t1", "t1-v2", "The Long Night", "dark-moody"))
    assert other != png  # the layout follows the variant
    with pytest.raises(ValueError, match="size"):
        render_image(spec, (10, 5000))


def test_themes_differ_in_palette_and_the_background_follows_the_theme():
    pictures = {
        theme: _decode(render_png(ArtworkSpec("t1", "t1-v1", "Same Name", theme)))
        for theme in PALETTES
    }
    corners = {}
    for theme, pixels in pictures.items():
        # The top rows are mostly background: their median is the gradient's top colour.
        corner = np.median(pixels[0:2].reshape(-1, 3), axis=0)
        corners[theme] = corner
        assert np.abs(corner - np.array(PALETTES[theme].top)).max() <= 3, theme
        accent = np.abs(pixels.astype(int) - np.array(PALETTES[theme].accent)).max(axis=2)
        assert (accent <= 3).mean() > 0.01, theme  # the focal element in the accent colour
    themes = list(corners)
    for i, a in enumerate(themes):
        for b in themes[i + 1 :]:
            assert np.abs(pictures[a].astype(int) - pictures[b]).mean() > 20, (a, b)
    # A theme without a palette still renders, in colours derived from its name.
    odd = render_png(ArtworkSpec("t1", "t1-v1", "Same Name", "surreal"))
    assert odd == render_png(ArtworkSpec("t1", "t1-v1", "Same Name", "surreal"))


def test_catalogue_finds_variants_and_names_what_is_unknown(catalogue):
    assert [s.theme for s in catalogue.variants("t3")] == list(THEMES)
    assert catalogue.spec("t3", "t3-v2").theme == "comedic"
    with pytest.raises(ArtworkNotFound) as unknown:
        catalogue.spec("nope", "t3-v2")
    assert unknown.value.field == "title_id"
    with pytest.raises(ArtworkNotFound) as unknown:
        catalogue.spec("t3", "t9-v1")
    assert unknown.value.field == "variant_id"
    with pytest.raises(ValueError, match="theme"):
        ArtworkCatalogue.from_frame(pd.DataFrame({"title_id": ["t"], "variant_id": ["v"]}))


def test_image_endpoint_answers_png_404_400_and_503_without_echoing(tmp_path, catalogue):
    settings = Settings(home=tmp_path, profile="local", artwork_cache_size=2)
    images = ArtworkImages(settings, source="world", load=lambda: catalogue)
    with TestClient(artwork_app(lambda: images)) as client:
        ok = client.get("/t1/t1-v3.png")
        assert ok.status_code == 200 and ok.headers["content-type"] == "image/png"
        assert ok.content == render_png(catalogue.spec("t1", "t1-v3"))
        title = client.get("/secret-title/t1-v1.png")
        assert title.status_code == 404 and title.json()["error"].startswith("title_id:")
        variant = client.get("/t1/secret-variant.png")
        assert variant.status_code == 404 and variant.json()["error"].startswith("variant_id:")
        bad = client.get("/t1/%3Cscript%3E.png")
        assert bad.status_code == 400 and bad.json()["error"].startswith("variant_id:")
        for answer in (title, variant, bad):
            assert "secret" not in answer.text and "script" not in answer.text
        for t in ("t2", "t3", "t4", "t1"):
            assert client.get(f"/{t}/{t}-v1.png").status_code == 200
        assert images.cached == 2  # bounded: least recently used dropped

    def not_built():
        raise FileNotFoundError("dim_artwork_variants.parquet")

    empty = ArtworkImages(settings, source="world", load=not_built)
    with TestClient(artwork_app(lambda: empty)) as client:
        answer = client.get("/t1/t1-v1.png")
        assert answer.status_code == 503 and "pipeline" in answer.json()["error"]


@pytest.fixture(scope="module")
def chooser(catalogue) -> LoggedThemeChooser:
    """m1 answers dark-moody artwork best, m2 family; m3 has too little evidence."""
    affinity = {("m1", "dark-moody"): 2.0, ("m1", "family"): 0.5, ("m2", "family"): 1.8,
                ("m2", "dark-moody"): 0.7, ("m3", "comedic"): 3.0}  # fmt: skip
    impressions = {key: 40 for key in affinity} | {("m3", "comedic"): 2}
    return LoggedThemeChooser(catalogue, affinity, impressions, date(2026, 1, 7))


def test_logged_theme_chooser_picks_each_members_best_answered_theme(chooser):
    assert chooser("m1", "t0") == "t0-v1"  # dark-moody
    assert chooser("m2", "t0") == "t0-v3"  # family
    # Without evidence every theme counts as average: the first variant, deterministically.
    assert chooser("m9", "t0") == "t0-v1"
    assert chooser.favourite("m2") == ("family", 1.8)
    with pytest.raises(ValueError, match="enough"):
        chooser.favourite("m3")


def test_two_members_picture_shows_the_same_titles_with_their_own_artwork(chooser, catalogue):
    popularity = {"t5": 10.0, "t2": 8.0}
    first, second = two_members(chooser, popularity, n_titles=4)
    assert (first.member_key, second.member_key) == ("m1", "m2")
    assert first.title_ids == second.title_ids and first.title_ids[:2] == ("t5", "t2")
    picture = home_rows_picture(catalogue, (first, second), chooser, title="two members")
    assert picture.size[0] > 4 * TILE[0] and picture.size[1] > 2 * TILE[1]
    pixels = np.asarray(picture)
    tiles = []
    for home in (first, second):
        spec = catalogue.spec("t5", chooser(home.member_key, "t5"))
        tile = np.asarray(render_image(spec, TILE))
        # The tile appears in the picture exactly as rendered.
        found = _find(pixels, tile)
        assert found is not None, home.member_key
        tiles.append(found)
    assert tiles[0][1] < tiles[1][1]  # the first member's panel is on the left
    with pytest.raises(ValueError, match="share 9 titles"):
        two_members(chooser, popularity, n_titles=9)


def _find(pixels: np.ndarray, tile: np.ndarray) -> tuple[int, int] | None:
    """Where ``tile`` sits in ``pixels`` (top-left corner), matching its first row."""
    h, w, _ = tile.shape
    for y in range(pixels.shape[0] - h + 1):
        for x in np.flatnonzero((pixels[y, : pixels.shape[1] - w + 1] == tile[0, 0]).all(axis=1)):
            if (pixels[y : y + h, x : x + w] == tile).all():
                return y, int(x)
    return None


def test_render_command_writes_each_variant_and_exits_2_on_unknown_ids(settings, tmp_path):
    from typer.testing import CliRunner

    from reelops.cli.main import app

    marts = settings.marts_dir("world")
    marts.mkdir(parents=True)
    rows = {"title_id": ["t1", "t1"], "variant_id": ["t1-v1", "t1-v2"],
            "theme": ["family", "dark-moody"], "title_name": ["Home", "Home"]}  # fmt: skip
    pd.DataFrame(rows).to_parquet(marts / "dim_artwork_variants.parquet")
    runner, out = CliRunner(), tmp_path / "art"
    done = runner.invoke(app, ["artwork", "render", "--title", "t1", "--out", str(out),
                               "--source", "world"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in out.iterdir()) == ["t1-v1.png", "t1-v2.png"]
    assert _decode((out / "t1-v2.png").read_bytes()).shape == (SIZE[1], SIZE[0], 3)
    for args in (["--title", "t9"], ["--title", "t1", "--variant", "t1-v7"]):
        failed = runner.invoke(app, ["artwork", "render", *args, "--out", str(out),
                                     "--source", "world"])  # fmt: skip
        assert failed.exit_code == 2 and "error:" in failed.output
    missing = runner.invoke(app, ["artwork", "home", "--source", "elsewhere"])
    assert missing.exit_code == 2 and "pipeline run" in missing.output
