"""The Open Bandit Dataset sample from the ``obp`` wheel: real logged bandit feedback.

The ``obp`` 0.4.1 wheel on the package index ships the small sample of the Open Bandit
Dataset (ZOZOTOWN fashion recommendations, three slots per impression, 10,000 rows per
log): logs of a uniform-random and of a Bernoulli Thompson Sampling policy, for the
campaigns "all", "men" and "women", each row with the item shown, its slot, whether it
was clicked and the exact probability the logging policy gave it. Fetching downloads
that one wheel with pip (nothing is installed), refuses it unless its SHA-256 is the
pinned one, and extracts the logs, item contexts and the Thompson Sampling policy's
production prior (``obp/policy/conf/prior_bts.yaml``) into
``REELOPS_HOME/data/open-bandit``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from reelops.config import Settings
from reelops.datasets import FetchError
from reelops.datasets.pinned import FetchResult, fetch_pinned
from reelops.datasets.wheels import download_wheel, read_member

NAME = "open-bandit"
REQUIREMENT = "obp==0.4.1"
# sha256 of obp-0.4.1-py3-none-any.whl as served by PyPI (pip checks the index's hash; 2026-12-03).
WHEEL_SHA256 = "87dec9caf4283c25ab13036532e0a24566f1c7bdcad1653a8ded43b2f5ef8208"
POLICIES = ("random", "bts")
CAMPAIGNS = ("all", "men", "women")
LOG_MEMBER = "obp/dataset/obd/{policy}/{campaign}/{campaign}.csv"
ITEMS_MEMBER = "obp/dataset/obd/{policy}/{campaign}/item_context.csv"
PRIOR_MEMBER = "obp/policy/conf/prior_bts.yaml"
PRIOR_FILE = "prior_bts.yaml"
ROWS_PER_LOG = 10_000
LOG_COLUMNS = ("timestamp", "item_id", "position", "click", "propensity_score")
LICENCE = (
    "Open Bandit Dataset sample from the obp 0.4.1 wheel (Apache License 2.0). Cite: Yuta "
    "Saito, Shunsuke Aihara, Megumi Matsutani and Yusuke Narita. 2021. Open Bandit Dataset "
    "and Pipeline: Towards Realistic and Reproducible Off-Policy Evaluation. NeurIPS "
    "Datasets and Benchmarks. https://arxiv.org/abs/2008.07146"
)


@dataclass(frozen=True, eq=False)
class BanditLog:
    """One logged bandit feedback file, in time order as obp reads it.

    Attributes:
        policy: ``random`` or ``bts``: the logging policy.
        campaign: ``all``, ``men`` or ``women``.
        action: Item shown (0-based id).
        position: Slot, 0-based (the file's 1..3 ranked densely, as obp does).
        reward: 1 if clicked.
        pscore: The logging policy's probability of showing that item in that slot.
        n_actions: Items in the campaign.
        len_list: Slots per impression.
    """

    policy: str
    campaign: str
    action: np.ndarray
    position: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray
    n_actions: int
    len_list: int


def _log_frame(data: bytes, where: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.BytesIO(data), index_col=0)
    except (ValueError, pd.errors.ParserError) as exc:
        raise FetchError(f"{where}: not a CSV file ({exc})") from None
    if missing := [c for c in LOG_COLUMNS if c not in frame.columns]:
        raise FetchError(f"{where} line 1: missing the columns {missing}")
    if len(frame) != ROWS_PER_LOG:
        raise FetchError(f"{where}: expected {ROWS_PER_LOG:,} rows, got {len(frame):,}")
    bad = ~frame["propensity_score"].between(0, 1, inclusive="right")
    bad |= ~frame["click"].isin([0, 1])
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise FetchError(
            f"{where} line {line}: propensity_score must be in (0, 1] and click 0 or 1, got "
            f"{frame['propensity_score'].iloc[line - 2]!r} and {frame['click'].iloc[line - 2]!r}"
        )
    return frame


def write_layout(wheel: Path, folder: Path) -> dict[str, int]:
    """Extract every log, its item context and the BTS prior from ``wheel`` into ``folder``.

    Returns:
        Rows per log, keyed ``policy/campaign``.

    Raises:
        FetchError: a member is missing or is not a log of the expected shape.
    """
    counts = {}
    for policy in POLICIES:
        for campaign in CAMPAIGNS:
            out = folder / policy / campaign
            out.mkdir(parents=True)
            for member in (LOG_MEMBER, ITEMS_MEMBER):
                name = member.format(policy=policy, campaign=campaign)
                data = read_member(wheel, name)
                if member == LOG_MEMBER:
                    counts[f"{policy}/{campaign}"] = len(_log_frame(data, f"{wheel.name}!{name}"))
                (out / name.rsplit("/", 1)[1]).write_bytes(data)
    prior = read_member(wheel, PRIOR_MEMBER)
    try:
        parsed = yaml.safe_load(prior)
        sizes = {c: (len(parsed[c]["alpha"]), len(parsed[c]["beta"])) for c in CAMPAIGNS}
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise FetchError(f"{wheel.name}!{PRIOR_MEMBER}: not the BTS prior ({exc!r})") from None
    if any(a != b for a, b in sizes.values()):
        raise FetchError(f"{wheel.name}!{PRIOR_MEMBER}: alpha and beta lengths differ: {sizes}")
    (folder / PRIOR_FILE).write_bytes(prior)
    return counts


def fetch_open_bandit(
    settings: Settings, wheel: Path | None = None, force: bool = False
) -> FetchResult:
    """Fetch the Open Bandit sample into ``REELOPS_HOME/data/open-bandit``; idempotent.

    ``wheel`` is an ``obp`` 0.4.1 wheel already on disk (downloaded with pip when None);
    the counts are the rows of each log. Errors and atomicity:
    :func:`~reelops.datasets.pinned.fetch_pinned`.
    """
    logs = tuple(f"{p}/{c}/{c}.csv" for p in POLICIES for c in CAMPAIGNS)
    return fetch_pinned(
        settings,
        NAME,
        REQUIREMENT,
        WHEEL_SHA256,
        wheel,
        download_wheel,
        write_layout,
        [PRIOR_FILE, *logs],
        {
            "dataset": "Open Bandit Dataset (small sample)",
            "from": f"{REQUIREMENT} (obp/dataset/obd, {PRIOR_MEMBER})",
            "licence": LICENCE,
        },
        force=force,
    )


def read_log(folder: Path, policy: str, campaign: str) -> BanditLog:
    """One fetched log, ordered by timestamp and with 0-based slots, as obp reads it.

    Raises:
        FileNotFoundError: the sample was not fetched (says which command fetches it).
        ValueError: an unknown policy or campaign.
    """
    if policy not in POLICIES or campaign not in CAMPAIGNS:
        raise ValueError(
            f"policy must be one of {POLICIES} and campaign one of {CAMPAIGNS}, "
            f"got {policy!r}, {campaign!r}"
        )
    path = folder / policy / campaign / f"{campaign}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such log; run `reelops data fetch {NAME}` first")
    frame = _log_frame(path.read_bytes(), str(path))
    frame = frame.sort_values("timestamp", kind="stable")
    slots, position = np.unique(frame["position"].to_numpy(), return_inverse=True)
    action = frame["item_id"].to_numpy().astype(np.int64)
    return BanditLog(
        policy=policy,
        campaign=campaign,
        action=action,
        position=position.astype(np.int64),
        reward=frame["click"].to_numpy().astype(np.float64),
        pscore=frame["propensity_score"].to_numpy().astype(np.float64),
        n_actions=int(action.max()) + 1,
        len_list=len(slots),
    )


def read_prior(folder: Path, campaign: str) -> tuple[np.ndarray, np.ndarray]:
    """The ZOZOTOWN production Beta prior (alpha, beta) of the BTS policy for ``campaign``."""
    path = folder / PRIOR_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no BTS prior; run `reelops data fetch {NAME}` first")
    prior = yaml.safe_load(path.read_text())[campaign]
    return np.asarray(prior["alpha"], dtype=np.float64), np.asarray(prior["beta"], dtype=np.float64)
