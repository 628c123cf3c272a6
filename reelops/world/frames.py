"""Turn the world's numpy arrays into frames that match the raw-table contract."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from reelops.schema import RAW_TABLES

# Arrow-backed pandas strings: compact for millions of ids, yet the usual ``.str`` API.
_PANDAS_TYPES = {pa.string(): pd.StringDtype("pyarrow")}


def padded_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Ids like ``m000123``: ``prefix`` then ``numbers`` zero-padded to ``width`` digits."""
    digits = pc.utf8_lpad(
        pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0"
    )
    return pc.binary_join_element_wise(prefix, digits, "")


def join_strings(*parts: pa.Array) -> pa.Array:
    """Row-wise concatenation of string arrays."""
    return pc.binary_join_element_wise(*parts, "")


def lookup(indices: np.ndarray, vocabulary: Sequence[str] | pa.Array) -> pa.Array:
    """The strings ``vocabulary[indices]``, built without a Python object per row."""
    values = (
        vocabulary if isinstance(vocabulary, pa.Array) else pa.array(list(vocabulary), pa.string())
    )
    codes = pa.array(np.asarray(indices, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(codes, values).cast(pa.string())


def microseconds(day_start: np.datetime64, day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Timestamps at ``seconds`` into day ``day`` after ``day_start``, as datetime64[us]."""
    offset_us = np.asarray(day, dtype=np.int64) * 86_400_000_000 + np.round(
        np.asarray(seconds) * 1e6
    ).astype(np.int64)
    return np.datetime64(day_start, "us") + offset_us.astype("timedelta64[us]")


def raw_frame(name: str, columns: Mapping[str, object]) -> pd.DataFrame:
    """Build raw table ``name`` with exactly the contract's columns, order and types.

    Args:
        name: A key of :data:`reelops.schema.RAW_TABLES`.
        columns: Column name to values (numpy array, Arrow array or list).

    Returns:
        The frame: strings as pandas' Arrow-backed ``string`` dtype, dates as
        ``datetime.date`` objects, timestamps as datetime64[us], numbers as numpy.

    Raises:
        ValueError: The columns differ from the contract's.
    """
    schema = RAW_TABLES[name].schema
    if set(columns) != set(schema.names):
        raise ValueError(f"table {name!r}: expected columns {schema.names}, got {sorted(columns)}")
    arrays = []
    for field in schema:
        values = columns[field.name]
        if isinstance(values, pa.Array):
            arrays.append(values.cast(field.type))
        else:
            arrays.append(pa.array(values, field.type))
    table = pa.Table.from_arrays(arrays, schema=schema)
    return table.to_pandas(types_mapper=_PANDAS_TYPES.get)


def to_arrow(name: str, frame: pd.DataFrame) -> pa.Table:
    """Convert a raw-table frame to Arrow with the contract's schema."""
    return pa.Table.from_pandas(frame, schema=RAW_TABLES[name].schema, preserve_index=False)
