"""Who a privacy request is about: a raw member id resolved to its pseudonym and links."""

from __future__ import annotations

from dataclasses import dataclass, field

from reelops.config import Settings
from reelops.privacy import MemberKeyVault, load_key, pseudonym


class UnknownMemberError(LookupError):
    """The member id is neither in the vault nor erased before: nothing is held about it."""


@dataclass(frozen=True)
class Member:
    """One member of one source, as the stores know them.

    Attributes:
        source: The source (``world``, ``movielens``...) whose member this is.
        member_key: The pseudonym every store after ingestion uses.
        member_id: The raw id, while it is known (None in a request resumed after the
            vault forgot it); only the vault and columns named ``member_id`` hold it.
        session_ids: Playback sessions of the member: their per-chunk telemetry carries
            the session id only.
    """

    source: str
    member_key: str
    member_id: str | None = None
    session_ids: frozenset[str] = field(default_factory=frozenset)

    def with_sessions(self, sessions: set[str]) -> Member:
        """The same member with more known session ids."""
        return Member(self.source, self.member_key, self.member_id, self.session_ids | sessions)


def resolve(settings: Settings, source: str, member_id: str) -> tuple[Member, bool]:
    """The member behind a raw id, and whether they were already erased.

    The pseudonym is recomputed with the platform's key, so an erased member (whom the
    vault no longer maps) is still recognised by their tombstone.

    Raises:
        UnknownMemberError: The vault never saw the id in ``source`` and no tombstone
            holds its pseudonym; nothing is written.
    """
    key = pseudonym(member_id, load_key(settings))
    with MemberKeyVault(settings) as vault:
        known = vault.key_of(source, member_id) is not None
        erased = vault.is_erased(source, key)
    if not known and not erased:
        raise UnknownMemberError(
            f"no member {member_id!r} in source {source!r}: the id vault has never seen it."
            " Check the id (the source's own member id, e.g. as in `reelops ranker recommend`)"
            " and the source (--source); nothing was changed"
        )
    return Member(source, key, member_id), erased
