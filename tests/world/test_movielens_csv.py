"""MovieLens CSV layout: values survive, genres map explicitly, a bad line keeps the old data."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from reelops.sources import active_source, read_source_table, source_info
from reelops.world.movielens import ImportFormatError, import_movielens


def test_csv_import_round_trips_values(settings, movielens_csv_dir):
    folder, wrote = movielens_csv_dir
    result = import_movielens(settings, folder)
    assert active_source(settings) == "movielens" and result.layout == "csv"
    assert result.info.rows["members"] == wrote["users"]
    assert result.info.rows["titles"] == len(wrote["movies"])
    assert result.info.rows["viewing_events"] == len(wrote["ratings"])

    titles = read_source_table(settings, "movielens", "titles").to_pandas().set_index("title_id")
    for movie, (name, genres, year) in wrote["movies"].items():
        row = titles.loc[str(movie)]
        assert row["name"] == name
        assert sorted(row.genres.split("|")) == genres
        if year is None:
            assert pd.isna(row.release_year) and pd.isna(row.release_date)
        else:
            assert (row.release_year, row.release_date) == (year, date(year, 1, 1))

    events = read_source_table(settings, "movielens", "viewing_events").to_pandas()
    got = sorted(
        zip(
            events.member_id.astype(int),
            events.title_id.astype(int),
            events.rating,
            events.ts.astype("int64") // 10**6,
            strict=True,
        )
    )
    assert got == sorted(wrote["ratings"])
    assert 0.5 in set(events.rating) or 4.5 in set(events.rating)  # half stars kept

    members = read_source_table(settings, "movielens", "members").to_pandas()
    assert set(members.member_id) == {str(u) for u in range(1, wrote["users"] + 1)}
    for column in ("country", "age_band", "gender"):
        assert set(members[column]) == {"unknown"}
    first = events.groupby("member_id").ts.min().dt.date
    assert members.set_index("member_id").signup_date.to_dict() == first.to_dict()


def test_csv_genres_outside_the_vocabulary_are_counted(settings, movielens_csv_dir):
    folder, _ = movielens_csv_dir
    notes = import_movielens(settings, folder).notes
    assert "genre 'IMAX' dropped from 2 titles (a screen format, not a genre)" in notes
    assert "genre 'Children' mapped to \"Children's\" on 1 title" in notes
    assert "genre '(no genres listed)' mapped to 'unknown' on 1 title" in notes
    assert "1 title had only dropped genres: genre 'unknown'" in notes
    assert any("no demographics" in n for n in notes)
    movies = folder / "movies.csv"
    movies.write_text(movies.read_text() + "31,Odd (0001),Drama|Wuxia\n")
    notes = import_movielens(settings, folder).notes
    assert "genre 'Wuxia' dropped from 1 title (not in the genre vocabulary)" in notes
    titles = read_source_table(settings, "movielens", "titles").to_pandas().set_index("title_id")
    assert titles.loc["31", "genres"] == "Drama" and pd.isna(titles.loc["31", "release_year"])


def _append(name, line):
    return lambda folder: (folder / name).write_text((folder / name).read_text() + line + "\n")


def _replace(name, old, new):
    return lambda folder: (folder / name).write_text((folder / name).read_text().replace(old, new))


@pytest.mark.parametrize(
    ("name", "break_it", "expected"),
    [
        ("ratings.csv", _append("ratings.csv", "1,2,3.5"), r"ratings.csv line 162: expected 4"),
        ("ratings.csv", _append("ratings.csv", "1,2,6,1104537600"), r"line 162: .*rating 0.5"),
        ("ratings.csv", _append("ratings.csv", "1,2,3.25,1104537600"), r"line 162: .*half"),
        ("ratings.csv", _append("ratings.csv", "x,2,3,1104537600"), r"line 162: .*userId"),
        ("ratings.csv", _append("ratings.csv", "1,99,3,1104537600"), r"line 162: item 99 is not"),
        ("ratings.csv", _append("ratings.csv", "1,2,3,-1"), r"line 162: .*unix_time"),
        ("ratings.csv", _replace("ratings.csv", "userId", "user"), r"ratings.csv line 1: .*header"),
        ("movies.csv", _append("movies.csv", '40,"Unclosed, (1999),Drama'), r"movies.csv line 32"),
        ("movies.csv", _append("movies.csv", "41,A, B (1999),Drama"), r"line 32: expected 3"),
        (
            "movies.csv",
            _append("movies.csv", "1,Again (1999),Drama"),
            r"line 32: movieId 1 .*line 2",
        ),
        ("movies.csv", _append("movies.csv", "42,No Genres (1999),"), r"line 32: expected genres"),
    ],
)
def test_csv_malformed_line_names_file_and_line_and_keeps_previous_data(
    settings, movielens_csv_dir, name, break_it, expected
):
    folder, _ = movielens_csv_dir
    import_movielens(settings, folder)
    before = source_info(settings, "movielens")
    events_before = read_source_table(settings, "movielens", "viewing_events")
    break_it(folder)
    with pytest.raises(ImportFormatError, match=expected) as err:
        import_movielens(settings, folder)
    assert str(folder / name) in str(err.value)
    assert source_info(settings, "movielens") == before  # same generation: not rewritten
    assert read_source_table(settings, "movielens", "viewing_events").equals(events_before)
    assert [p.name for p in settings.sources_dir.iterdir() if p.name.startswith(".")] == []


def test_csv_duplicate_rating_names_both_lines(settings, movielens_csv_dir):
    folder, wrote = movielens_csv_dir
    user, movie, _, stamp = wrote["ratings"][0]
    _append("ratings.csv", f"{user},{movie},4.0,{stamp}")(folder)
    with pytest.raises(ImportFormatError, match=rf"line 162: user {user} rated item {movie} .*2"):
        import_movielens(settings, folder)
