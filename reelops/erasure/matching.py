"""Finding and removing one member's rows in parquet, CSV and text files."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from reelops.erasure.identity import Member

TEXT_SUFFIXES = (".json", ".jsonl", ".md", ".html", ".txt", ".yaml", ".yml", ".log")
ERASED = "erased"


def _is_text(field: pa.Field) -> bool:
    return pa.types.is_string(field.type) or pa.types.is_large_string(field.type)


def member_mask(data: pa.Table, member: Member) -> pa.ChunkedArray | None:
    """True for the rows that are about ``member``; None when no column can hold them.

    The pseudonym (32 hex characters) is looked for in every string column, as a whole
    value or quoted inside JSON; the raw id only in columns named ``member_id`` (a raw id
    such as MovieLens' ``"1"`` would also equal titles' ids); session ids in
    ``session_id`` columns.
    """
    masks = []
    for f in data.schema:
        if not _is_text(f):
            continue
        column = data.column(f.name)
        masks.append(pc.equal(column, member.member_key))
        masks.append(pc.match_substring(column, f'"{member.member_key}"'))
        if member.member_id is not None and "member_id" in f.name:
            masks.append(pc.equal(column, member.member_id))
        if member.session_ids and f.name == "session_id":
            masks.append(pc.is_in(column, pa.array(sorted(member.session_ids), pa.string())))
    if not masks:
        return None
    mask = masks[0]
    for more in masks[1:]:
        # Kleene logic: a match in one column counts whatever another column holds; with
        # plain `or_`, a null in any string column (a log row's null arm) hid the match.
        mask = pc.or_kleene(mask, more)
    return pc.fill_null(mask, False)


def matching_rows(data: pa.Table, member: Member) -> pa.Table:
    """The rows of ``data`` that are about ``member``."""
    mask = member_mask(data, member)
    return data.slice(0, 0) if mask is None else data.filter(mask)


def without_member(data: pa.Table, member: Member) -> tuple[pa.Table, int]:
    """``data`` without the member's rows, and how many were removed."""
    mask = member_mask(data, member)
    if mask is None:
        return data, 0
    removed = pc.sum(pc.cast(mask, pa.int64())).as_py() or 0
    return (data.filter(pc.invert(mask)) if removed else data), removed


def unlinked(data: pa.Table, member: Member) -> tuple[pa.Table, int]:
    """``data`` with the member's keys replaced by a fresh token, rows kept in place.

    For artefacts whose row positions matter (a model's candidate index maps members to
    matrix rows): the row stays, but nothing links it to the member any more.
    """
    mask = member_mask(data, member)
    if mask is None:
        return data, 0
    count = pc.sum(pc.cast(mask, pa.int64())).as_py() or 0
    if not count:
        return data, 0
    token = f"{ERASED}-{uuid.uuid4().hex}"
    for i, f in enumerate(data.schema):
        if not _is_text(f):
            continue
        column = data.column(f.name)
        replaced = pc.replace_substring(column, member.member_key, token)
        if member.member_id is not None and "member_id" in f.name:
            replaced = pc.if_else(pc.equal(column, member.member_id), token, replaced)
        data = data.set_column(i, f, replaced)
    return data, count


def read_file(path: Path) -> pa.Table:
    """A parquet or CSV file as an Arrow table (CSV columns read as strings).

    Raises:
        ValueError: The file cannot be read; the message names it.
    """
    try:
        if path.suffix == ".parquet":
            return pq.read_table(path)
        names = pacsv.read_csv(path).schema.names
        types = {name: pa.string() for name in names}
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValueError(
            f"{path}: cannot be read to look for the member ({exc}); repair or remove the"
            " file, then run the command again"
        ) from exc


def replace_file(path: Path, write) -> None:
    """Rewrite ``path`` atomically: ``write(tmp)`` beside it, then one rename over it."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_table(path: Path, data: pa.Table) -> None:
    """Replace a parquet or CSV file with ``data``, atomically."""
    if path.suffix == ".parquet":
        replace_file(path, lambda tmp: pq.write_table(data, tmp, compression="zstd"))
    else:
        replace_file(path, lambda tmp: pacsv.write_csv(data, tmp))


# Text files are searched for the pseudonym only: a short raw id (MovieLens' "1") would
# also match titles, counts and dates, and raw ids never leave ingestion anyway.
def text_hits(path: Path, member: Member) -> int:
    """Occurrences of the member's pseudonym in a text file."""
    return path.read_text(errors="replace").count(member.member_key)


def scrub_text(path: Path, member: Member) -> int:
    """Replace the member's pseudonym in a text file; returns how many there were."""
    text = path.read_text(errors="replace")
    hits = text.count(member.member_key)
    if hits:
        scrubbed = text.replace(member.member_key, ERASED)
        replace_file(path, lambda tmp: tmp.write_text(scrubbed))
    return hits
