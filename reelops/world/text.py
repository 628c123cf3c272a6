"""Title names and one-sentence synopses, assembled from word lists and templates."""

from __future__ import annotations

import numpy as np

ADJECTIVES = (
    "Silent",
    "Broken",
    "Golden",
    "Hidden",
    "Last",
    "Crimson",
    "Distant",
    "Wild",
    "Hollow",
    "Burning",
    "Frozen",
    "Secret",
    "Lost",
    "Midnight",
    "Restless",
    "Bright",
    "Quiet",
    "Savage",
    "Little",
    "Endless",
    "Velvet",
    "Iron",
    "Paper",
    "Electric",
    "Sleeping",
    "Northern",
    "Scarlet",
    "Wandering",
    "Hungry",
    "Gentle",
    "Stolen",
    "Painted",
    "Fading",
    "Open",
)
NOUNS = (
    "Harbour",
    "Garden",
    "Signal",
    "Kingdom",
    "Orchard",
    "Horizon",
    "Witness",
    "Letter",
    "Lighthouse",
    "Frontier",
    "Machine",
    "Promise",
    "Summer",
    "Winter",
    "River",
    "Mirror",
    "Stranger",
    "Echo",
    "Empire",
    "Carnival",
    "Station",
    "Tide",
    "Compass",
    "Crown",
    "Storm",
    "Ballad",
    "Harvest",
    "Shadow",
    "Bridge",
    "Voyage",
    "Island",
    "Orchestra",
    "Fortune",
)
PLACES = (
    "Ashford",
    "the Valley",
    "Blue Mountain",
    "Marrow Street",
    "the North Sea",
    "Paloma",
    "the Old Quarter",
    "Kestrel Bay",
    "Saint Agnes",
    "the Salt Flats",
    "Tamsin Hill",
    "Port Elwin",
    "the Deep South",
    "Lake Orla",
    "the Capital",
    "Hartwell",
    "the Dunes",
    "Varenne",
    "the Red Canyon",
    "Low Harrow",
)
TEMPLATES = (
    "The {adj} {noun}",
    "{noun} of {place}",
    "{adj} {noun}",
    "A {noun} in {place}",
    "The {noun}'s {noun2}",
)

TRAITS = (
    "reluctant",
    "retired",
    "ambitious",
    "grieving",
    "young",
    "disgraced",
    "stubborn",
    "brilliant",
    "restless",
    "unlikely",
    "newly married",
    "estranged",
)
ROLES = (
    "detective",
    "teacher",
    "pilot",
    "chef",
    "nurse",
    "musician",
    "farmer",
    "journalist",
    "engineer",
    "thief",
    "diplomat",
    "lighthouse keeper",
    "boxer",
    "archivist",
)
SETTINGS = (
    "in a town that keeps its secrets",
    "across a continent at war",
    "on the last night of summer",
    "in a city that never sleeps",
    "far from home",
    "over one unforgettable winter",
    "at the edge of the known world",
    "in a house with too many doors",
)
# One hook per genre keeps the synopsis in step with the title's first genre.
GENRE_HOOKS = {
    "Action": (
        "must stop a heist that could bring down the city",
        "fights back against the syndicate that framed them",
    ),
    "Adventure": (
        "sets out to find a map that should not exist",
        "crosses the mountains to bring a stranger home",
    ),
    "Animation": ("befriends a talking lantern", "builds a rocket out of spare parts"),
    "Children's": ("looks after a runaway puppy", "starts a band with the neighbours' kids"),
    "Comedy": ("fakes a wedding to save the family bakery", "is mistaken for a famous magician"),
    "Crime": (
        "is drawn into a robbery that goes wrong",
        "follows the money behind a string of arsons",
    ),
    "Documentary": (
        "tells the true story of a forgotten invention",
        "follows the people who keep a river alive",
    ),
    "Drama": ("returns home to face the family they left", "has one season to save the farm"),
    "Fantasy": ("inherits a sword that chooses its bearer", "bargains with a spirit of the forest"),
    "Film-Noir": (
        "takes one last case from a woman with no past",
        "finds a body and a fortune in the same room",
    ),
    "Horror": (
        "uncovers what haunts an old house",
        "must survive one night with something in the woods",
    ),
    "Musical": (
        "sings their way onto the biggest stage in town",
        "revives a dance hall with a song",
    ),
    "Mystery": (
        "investigates a disappearance no one reported",
        "receives letters from someone long dead",
    ),
    "Romance": ("falls for the rival they swore to beat", "meets the same stranger on every train"),
    "Sci-Fi": ("wakes up on a ship that has lost its course", "receives a message from the future"),
    "Thriller": (
        "is hunted for a secret they did not know they kept",
        "has twelve hours to prove their innocence",
    ),
    "War": ("leads a small unit behind enemy lines", "smuggles families across a closed border"),
    "Western": (
        "rides into a town that owes them a debt",
        "defends a homestead against a land baron",
    ),
}


def title_names(rng: np.random.Generator, n: int) -> list[str]:
    """Draw ``n`` title names; repeats get a sequel numeral so every name is unique."""
    picks = [
        rng.integers(len(options), size=n)
        for options in (TEMPLATES, ADJECTIVES, NOUNS, NOUNS, PLACES)
    ]
    seen: dict[str, int] = {}
    names = []
    for i in range(n):
        template, adj, noun, noun2, place = (p[i] for p in picks)
        name = TEMPLATES[template].format(
            adj=ADJECTIVES[adj], noun=NOUNS[noun], noun2=NOUNS[noun2], place=PLACES[place]
        )
        count = seen.get(name, 0) + 1
        seen[name] = count
        names.append(name if count == 1 else f"{name} {_numeral(count)}")
    return names


def synopses(rng: np.random.Generator, first_genres: list[str]) -> list[str]:
    """One sentence per title, its hook taken from the title's first genre."""
    n = len(first_genres)
    traits, roles, settings, hooks = (
        rng.integers(k, size=n) for k in (len(TRAITS), len(ROLES), len(SETTINGS), 2)
    )
    sentences = []
    for i, genre in enumerate(first_genres):
        trait = TRAITS[traits[i]]
        article = "An" if trait[0] in "aeiou" else "A"
        hook = GENRE_HOOKS[genre][hooks[i]]
        sentences.append(f"{article} {trait} {ROLES[roles[i]]} {hook} {SETTINGS[settings[i]]}.")
    return sentences


def _numeral(n: int) -> str:
    numerals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for value, letters in numerals:
        while n >= value:
            out += letters
            n -= value
    return out
