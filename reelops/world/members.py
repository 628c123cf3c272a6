"""The member base: demographics, devices, connections and hidden tastes and activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from reelops.schema import AGE_BANDS, CONNECTIONS, COUNTRIES, DEVICES, PLANS
from reelops.world.catalog import GENRE_LIST
from reelops.world.frames import lookup, padded_ids, raw_frame
from reelops.world.sampling import row_categorical, top_k

COUNTRY_LIST = tuple(c for c in COUNTRIES if c != "unknown")
CONNECTION_LIST = tuple(c for c in CONNECTIONS if c != "unknown")
PLAN_LIST = tuple(p for p in PLANS if p != "unknown")

COUNTRY_SHARE = {
    "US": 0.28, "GB": 0.10, "DE": 0.10, "BR": 0.14, "IN": 0.16, "JP": 0.08, "NG": 0.06,
    "NO": 0.08,
}  # fmt: skip
# P(connection | country), columns in CONNECTION_LIST order: fibre, cable, dsl, mobile.
CONNECTION_SHARE = {
    "US": (0.25, 0.40, 0.15, 0.20),
    "GB": (0.30, 0.25, 0.30, 0.15),
    "DE": (0.20, 0.30, 0.35, 0.15),
    "BR": (0.25, 0.20, 0.15, 0.40),
    "IN": (0.15, 0.05, 0.10, 0.70),
    "JP": (0.60, 0.15, 0.05, 0.20),
    "NG": (0.05, 0.05, 0.05, 0.85),
    "NO": (0.65, 0.15, 0.05, 0.15),
}
AGE_SHARE = (0.05, 0.17, 0.27, 0.22, 0.14, 0.12, 0.03)  # AGE_BANDS order, "unknown" last
GENDER_LIST = ("F", "M", "unknown")
GENDER_SHARE = (0.48, 0.48, 0.04)
PLAN_SHARE = (0.30, 0.45, 0.25)
PLAN_ACTIVITY = (0.85, 1.0, 1.15)
DEVICE_SHARE = (0.70, 0.65, 0.30, 0.40)  # chance of owning each of DEVICES

# How likely a genre is to be among a member's favourites (log scale), and how
# demographics tilt that; the tilts give member features real predictive signal.
FAVOURITE_BASE = {
    "Action": 0.5, "Adventure": 0.2, "Animation": -0.3, "Children's": -0.6, "Comedy": 0.6,
    "Crime": 0.2, "Documentary": -0.5, "Drama": 0.6, "Fantasy": -0.1, "Film-Noir": -1.5,
    "Horror": 0.0, "Musical": -0.8, "Mystery": -0.2, "Romance": 0.3, "Sci-Fi": 0.1,
    "Thriller": 0.4, "War": -0.8, "Western": -1.2,
}  # fmt: skip
AGE_TILT = {
    "<18": {"Animation": 1.5, "Children's": 1.0, "Fantasy": 0.8, "Comedy": 0.4, "Drama": -0.6},
    "18-24": {"Horror": 0.8, "Sci-Fi": 0.5, "Animation": 0.5, "Action": 0.3},
    "25-34": {"Thriller": 0.3, "Crime": 0.3, "Comedy": 0.2},
    "35-44": {"Drama": 0.3, "Children's": 0.6, "Documentary": 0.3},
    "45-54": {"Drama": 0.5, "Documentary": 0.6, "Crime": 0.3, "Horror": -0.5},
    "55+": {"War": 1.2, "Western": 1.3, "Film-Noir": 1.3, "Drama": 0.6, "Musical": 0.6,
            "Horror": -0.8, "Animation": -0.8},
}  # fmt: skip
GENDER_TILT = {
    "F": {"Romance": 0.7, "Drama": 0.3, "Musical": 0.4, "War": -0.4},
    "M": {"Action": 0.5, "War": 0.5, "Sci-Fi": 0.4, "Romance": -0.5},
}
COUNTRY_TILT = {
    "IN": {"Musical": 1.5, "Drama": 0.4, "Romance": 0.4},
    "JP": {"Animation": 1.3, "Fantasy": 0.5},
    "NG": {"Drama": 0.6, "Comedy": 0.5, "Romance": 0.4},
    "BR": {"Romance": 0.4, "Comedy": 0.3, "Documentary": 0.2},
    "NO": {"Crime": 0.6, "Thriller": 0.5, "Documentary": 0.3},
    "DE": {"Crime": 0.4, "Documentary": 0.3},
}
TASTE_FLOOR = 0.12  # Dirichlet weight of every genre
TASTE_FAVOURITE = 3.0  # extra Dirichlet weight of a favourite genre


@dataclass(frozen=True, eq=False)
class Members:
    """The member table plus the hidden arrays behaviour is simulated from.

    Arrays are indexed by member position; ``taste`` has shape (members, genres)
    in GENRE_LIST order and each row sums to 1.
    """

    table: pd.DataFrame
    country: np.ndarray  # indices into COUNTRY_LIST
    connection: np.ndarray  # indices into CONNECTION_LIST
    devices: np.ndarray  # (members, len(DEVICES)) bool: owns the device
    taste: np.ndarray
    activity: np.ndarray  # chance of being active on an ordinary weekday

    def taste_truth(self) -> pd.DataFrame:
        n_members, n_genres = self.taste.shape
        return pd.DataFrame(
            {
                "member_id": np.repeat(self.table["member_id"].to_numpy(), n_genres),
                "genre": np.tile(np.array(GENRE_LIST, dtype=object), n_members),
                "weight": self.taste.reshape(-1),
            }
        )

    def activity_truth(self) -> pd.DataFrame:
        return pd.DataFrame({"member_id": self.table["member_id"], "activity": self.activity})


def _tilts(groups: np.ndarray, names: tuple[str, ...], tilt: dict[str, dict[str, float]]):
    table = np.zeros((len(names), len(GENRE_LIST)))
    for i, name in enumerate(names):
        for genre, value in tilt.get(name, {}).items():
            table[i, GENRE_LIST.index(genre)] = value
    return table[groups]


def draw_members(
    rng: np.random.Generator, n_members: int, start: date, active_rate: float
) -> Members:
    """Draw the member base.

    Args:
        rng: Source of randomness.
        n_members: Number of members.
        start: First day of the simulated period; every signup is before it.
        active_rate: Mean chance that a member is active on an ordinary weekday.

    Returns:
        The members with their hidden tastes and activity.
    """
    country = rng.choice(len(COUNTRY_LIST), n_members, p=[COUNTRY_SHARE[c] for c in COUNTRY_LIST])
    connection_p = np.array([CONNECTION_SHARE[c] for c in COUNTRY_LIST])[country]
    connection = row_categorical(rng, connection_p)
    age = rng.choice(len(AGE_BANDS), n_members, p=AGE_SHARE)
    gender = rng.choice(len(GENDER_LIST), n_members, p=GENDER_SHARE)
    plan = rng.choice(len(PLAN_LIST), n_members, p=PLAN_SHARE)
    devices = rng.random((n_members, len(DEVICES))) < np.array(DEVICE_SHARE)
    devices[~devices.any(axis=1), DEVICES.index("mobile")] = True
    signup = np.datetime64(start, "D") - (
        1 + np.minimum(np.floor(rng.exponential(400.0, n_members)), 6 * 365)
    ).astype("timedelta64[D]")

    base = np.array([FAVOURITE_BASE[g] for g in GENRE_LIST])
    favourite_logit = (
        base
        + _tilts(age, AGE_BANDS, AGE_TILT)
        + _tilts(gender, GENDER_LIST, GENDER_TILT)
        + _tilts(country, COUNTRY_LIST, COUNTRY_TILT)
    )
    n_favourites = 1 + rng.binomial(2, 0.5, n_members)
    favourites = top_k(rng, favourite_logit, n_favourites)
    alpha = np.full((n_members, len(GENRE_LIST)), TASTE_FLOOR)
    rows = np.repeat(np.arange(n_members)[:, None], favourites.shape[1], axis=1)
    alpha[rows[favourites >= 0], favourites[favourites >= 0]] += TASTE_FAVOURITE
    gamma = rng.gamma(alpha)
    taste = gamma / gamma.sum(axis=1, keepdims=True)

    concentration = 2.5
    activity = rng.beta(concentration * active_rate, concentration * (1 - active_rate), n_members)
    activity = np.clip(activity * np.array(PLAN_ACTIVITY)[plan], 0.02, 0.95)

    device_sets = [
        ",".join(d for i, d in enumerate(DEVICES) if mask >> i & 1)
        for mask in range(2 ** len(DEVICES))
    ]
    device_mask = (devices * (1 << np.arange(len(DEVICES)))).sum(axis=1)
    table = raw_frame(
        "members",
        {
            "member_id": padded_ids("m", np.arange(n_members), 6),
            "signup_date": signup,
            "country": lookup(country, COUNTRY_LIST),
            "age_band": lookup(age, AGE_BANDS),
            "gender": lookup(gender, GENDER_LIST),
            "plan": lookup(plan, PLAN_LIST),
            "devices": lookup(device_mask, device_sets),
            "connection_type": lookup(connection, CONNECTION_LIST),
        },
    )
    return Members(table, country, connection, devices, taste, activity)
