"""The artwork catalogue: every title's variants with their themes, from dim_artwork_variants."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from reelops.artwork.render import ArtworkSpec
from reelops.config import Settings
from reelops.warehouse import read_mart

COLUMNS = ("title_id", "variant_id", "theme", "title_name")


class ArtworkNotFound(LookupError):
    """The catalogue has no such title, or the title no such variant.

    Attributes:
        field: ``title_id`` or ``variant_id``, whichever is unknown.
    """

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ArtworkCatalogue:
    """Title id -> its variants in id order, each as the spec it is rendered from."""

    titles: dict[str, tuple[ArtworkSpec, ...]]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> ArtworkCatalogue:
        """Build from rows with title_id, variant_id, theme and title_name.

        Raises:
            ValueError: a column is missing (named).
        """
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"the artwork catalogue lacks column(s) {missing}")
        titles: dict[str, list[ArtworkSpec]] = {}
        for row in frame.sort_values(["title_id", "variant_id"]).itertuples(index=False):
            name = row.title_name if isinstance(row.title_name, str) else row.title_id
            spec = ArtworkSpec(str(row.title_id), str(row.variant_id), name, str(row.theme))
            titles.setdefault(spec.title_id, []).append(spec)
        return cls({title: tuple(specs) for title, specs in titles.items()})

    @classmethod
    def load(cls, settings: Settings, source: str) -> ArtworkCatalogue:
        """The source's catalogue from its warehouse (FileNotFoundError before a build)."""
        return cls.from_frame(read_mart(settings, source, "dim_artwork_variants"))

    def variants(self, title_id: str) -> tuple[ArtworkSpec, ...]:
        """The title's variants (ArtworkNotFound for an unknown title)."""
        if title_id not in self.titles:
            raise ArtworkNotFound("title_id", "no title with this title_id in the catalogue")
        return self.titles[title_id]

    def spec(self, title_id: str, variant_id: str) -> ArtworkSpec:
        """One variant (ArtworkNotFound naming the unknown id)."""
        for spec in self.variants(title_id):
            if spec.variant_id == variant_id:
                return spec
        raise ArtworkNotFound("variant_id", "the title has no variant with this variant_id")
