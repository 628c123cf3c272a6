"""MovieLens importer: counts, genres, and malformed files that leave nothing behind."""

from __future__ import annotations

import pytest

from reelops.sources import active_source, read_source_table, source_info
from reelops.world.movielens import ImportFormatError, import_movielens


def test_import_maps_counts_and_genres(settings, movielens_dir):
    folder, wrote = movielens_dir
    result = import_movielens(settings, folder)
    info = result.info
    assert (result.layout, result.notes) == ("100k", ())
    assert active_source(settings) == "movielens"
    assert info.rows["members"] == wrote["users"]
    assert info.rows["titles"] == wrote["items"]
    assert info.rows["viewing_events"] == wrote["ratings"]
    assert info.rows["impressions"] == 0
    titles = read_source_table(settings, "movielens", "titles").to_pandas()
    for title_id, genres in wrote["genres"].items():
        row = titles[titles.title_id == title_id].iloc[0]
        assert sorted(row.genres.split("|")) == genres
    assert titles.name.iloc[0].startswith("Caf\xe9 Film")  # Latin-1 decoded
    events = read_source_table(settings, "movielens", "viewing_events").to_pandas()
    assert (events.completion == 1.0).all()
    assert events.ts.min().year == 1997


def _break(folder, name, transform):
    path = folder / name
    path.write_bytes(transform(path.read_bytes()))


@pytest.mark.parametrize(
    ("name", "transform", "expected"),
    [
        ("u.data", lambda b: b.replace(b"\t", b" ", 1).replace(b" ", b"", 1), "u.data line 1"),
        ("u.data", lambda b: b + b"3\t4\tfive\t874965758\n", "expected an integer rating"),
        ("u.user", lambda b: b + b"99|30|M|writer\n", "expected 5 '|'-separated fields"),
        ("u.user", lambda b: b.replace(b"student", b"\xff\xfestudent", 1), "expected utf-8 text"),
        ("u.item", lambda b: b.replace(b"\n", b"|1\n", 1), "u.item line 1: expected 24"),
        ("u.item", lambda b: b.decode("latin-1").encode("utf-16"), "NUL bytes"),
        ("u.user", lambda b: b + b.split(b"\n")[0] + b"\n", r"u.user line 31: user id 1 .*line 1"),
        ("u.item", lambda b: b + b.split(b"\n")[0] + b"\n", r"u.item line 41: item id 1 .*line 1"),
        ("u.user", lambda b: b.replace(b"\n2|", b"\n2|-", 1), r"u.user line 2: .*age 0\.\.120"),
        ("u.user", lambda b: b.replace(b"\n2|", b"\n2|999", 1), r"u.user line 2: .*age 0\.\.120"),
        ("u.data", lambda b: b + b"1\t1\t3\t99999999999999999\n", r"u.data line 241: .*unix_time"),
        ("u.data", lambda b: b + b"1\t1\t3\t-5\n", r"u.data line 241: .*unix_time"),
        (
            "u.data",
            lambda b: b.replace(b"\n", b"\n" + b.split(b"\n")[0] + b"\n", 1),
            "u.data line 2: user",
        ),
    ],
)
def test_malformed_file_names_the_problem_and_leaves_nothing(
    settings, movielens_dir, name, transform, expected
):
    folder, _ = movielens_dir
    import_movielens(settings, folder)
    before = source_info(settings, "movielens")
    _break(folder, name, transform)
    with pytest.raises(ImportFormatError, match=expected) as err:
        import_movielens(settings, folder)
    assert name in str(err.value)
    after = source_info(settings, "movielens")
    assert after == before  # the earlier import is intact
    leftovers = [p.name for p in settings.sources_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_missing_file_or_layout_is_named(settings, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportFormatError, match="empty: no MovieLens files; expected u.data"):
        import_movielens(settings, tmp_path / "empty")
    (tmp_path / "empty" / "u.data").write_text("1\t1\t3\t874965758\n")
    with pytest.raises(ImportFormatError, match="u.user: file not found"):
        import_movielens(settings, tmp_path / "empty")
    (tmp_path / "empty" / "ratings.csv").write_text("userId,movieId,rating,timestamp\n")
    with pytest.raises(ImportFormatError, match="files of both layouts"):
        import_movielens(settings, tmp_path / "empty")
    assert not (settings.sources_dir / "movielens").exists()
