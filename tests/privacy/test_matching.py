"""Row matching for erasure: a member's row is found whatever the other columns hold."""

from __future__ import annotations

import pyarrow as pa

from reelops.erasure.identity import Member
from reelops.erasure.matching import matching_rows, without_member


def test_a_null_in_another_column_does_not_hide_the_members_row():
    key = "a" * 32
    member = Member(source="world", member_key=key, member_id=None)
    data = pa.table(
        {
            "member_key": [key, "b" * 32, None, key],
            "arm": pa.array([None, None, None, "canary"], pa.string()),  # null: an older file
            "features": [None, f'{{"seen_with": "{key}"}}', None, "{}"],
        }
    )
    assert matching_rows(data, member).num_rows == 3
    kept, removed = without_member(data, member)
    assert removed == 3 and kept.column("member_key").to_pylist() == [None]
