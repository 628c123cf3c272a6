"""The Shakespeare check: is the genre of a play in the analyzer's features alone?

Labels are the First Folio's: "Mr. William Shakespeares Comedies, Histories, &
Tragedies" (London, 1623) sorts 36 plays into those three sections in its "Catalogue"
(Troilus and Cressida, printed without a Catalogue entry between the histories and the
tragedies, is counted a tragedy, as its Folio title "The Tragedie of Troylus and
Cressida" calls it). Pericles is not in the Folio and has no label.

A standardized logistic regression (scikit-learn's defaults, nothing tuned) is scored
leave-one-out over the plays: every play is predicted by a model fitted on the others.
The baseline is the same classifier on the sentiment-arc features alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reelops.stats import paired_bootstrap

COMEDY, HISTORY, TRAGEDY = "comedy", "history", "tragedy"
GENRES = (COMEDY, HISTORY, TRAGEDY)
FIRST_FOLIO_GENRE = {
    # Comedies (14)
    "the-tempest": COMEDY,
    "two-gentlemen-of-verona": COMEDY,
    "merry-wives-of-windsor": COMEDY,
    "measure-for-measure": COMEDY,
    "comedy-of-errors": COMEDY,
    "much-ado-about-nothing": COMEDY,
    "loves-labours-lost": COMEDY,
    "midsummer-nights-dream": COMEDY,
    "merchant-of-venice": COMEDY,
    "as-you-like-it": COMEDY,
    "taming-of-the-shrew": COMEDY,
    "alls-well-that-ends-well": COMEDY,
    "twelfth-night": COMEDY,
    "winters-tale": COMEDY,
    # Histories (10)
    "king-john": HISTORY,
    "richard-ii": HISTORY,
    "henry-iv-part-1": HISTORY,
    "henry-iv-part-2": HISTORY,
    "henry-v": HISTORY,
    "henry-vi-part-1": HISTORY,
    "henry-vi-part-2": HISTORY,
    "henry-vi-part-3": HISTORY,
    "richard-iii": HISTORY,
    "henry-viii": HISTORY,
    # Tragedies (12, with Troilus and Cressida)
    "troilus-and-cressida": TRAGEDY,
    "coriolanus": TRAGEDY,
    "titus-andronicus": TRAGEDY,
    "romeo-and-juliet": TRAGEDY,
    "timon-of-athens": TRAGEDY,
    "julius-caesar": TRAGEDY,
    "macbeth": TRAGEDY,
    "hamlet": TRAGEDY,
    "king-lear": TRAGEDY,
    "othello": TRAGEDY,
    "antony-and-cleopatra": TRAGEDY,
    "cymbeline": TRAGEDY,
}


@dataclass(frozen=True)
class GenreCheck:
    """Leave-one-out accuracies with the analyzer's features and the arc baseline.

    ``*_ci`` are 95 % bootstrap intervals over plays; ``gain_*`` the paired-bootstrap
    (mean, low, high) of features-minus-baseline correctness per play.
    """

    plays: int
    accuracy_3: float
    accuracy_3_ci: tuple[float, float]
    accuracy_tc: float
    accuracy_tc_ci: tuple[float, float]
    baseline_3: float
    baseline_tc: float
    gain_3: tuple[float, float, float]
    gain_tc: tuple[float, float, float]
    confusion: pd.DataFrame
    predictions: pd.DataFrame


def arc_columns(columns) -> list[str]:
    return [c for c in columns if c.startswith("arc_") or c.startswith("sentiment_")]


def loo_predict(features: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
    """Leave-one-out predictions of a standardized logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneOut, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    # One BLAS thread: 36 tiny fits gain nothing from threads, and on a busy machine
    # their start-up made the check 17 times slower.
    with threadpool_limits(1):
        return cross_val_predict(model, features.to_numpy(float), labels, cv=LeaveOneOut())


def _interval(correct: np.ndarray, n: int = 2000, seed: int = 0) -> tuple[float, float]:
    picks = np.random.default_rng(seed).integers(0, len(correct), size=(n, len(correct)))
    low, high = np.percentile(correct[picks].mean(axis=1), [2.5, 97.5])
    return float(low), float(high)


def genre_check(features: pd.DataFrame) -> GenreCheck:
    """Score the check on ``features`` (one row per play, indexed by title id).

    Raises:
        ValueError: a labelled play is missing from ``features``.
    """
    if missing := sorted(set(FIRST_FOLIO_GENRE) - set(features.index)):
        raise ValueError(f"no features for {missing}; fetch and import the plays first")
    frame = features.loc[list(FIRST_FOLIO_GENRE)]
    labels = np.array(list(FIRST_FOLIO_GENRE.values()))
    two = labels != HISTORY
    arc = arc_columns(frame.columns)
    predicted = loo_predict(frame, labels)
    full_3 = predicted == labels
    base_3 = loo_predict(frame[arc], labels) == labels
    full_tc = loo_predict(frame[two], labels[two]) == labels[two]
    base_tc = loo_predict(frame[arc][two], labels[two]) == labels[two]
    confusion = pd.crosstab(
        pd.Categorical(labels, GENRES, ordered=True),
        pd.Categorical(predicted, GENRES, ordered=True),
        rownames=["First Folio"],
        colnames=["predicted"],
        dropna=False,
    )
    return GenreCheck(
        plays=len(frame),
        accuracy_3=float(full_3.mean()),
        accuracy_3_ci=_interval(full_3.astype(float)),
        accuracy_tc=float(full_tc.mean()),
        accuracy_tc_ci=_interval(full_tc.astype(float)),
        baseline_3=float(base_3.mean()),
        baseline_tc=float(base_tc.mean()),
        gain_3=paired_bootstrap(full_3.astype(float), base_3.astype(float)),
        gain_tc=paired_bootstrap(full_tc.astype(float), base_tc.astype(float)),
        confusion=confusion,
        predictions=pd.DataFrame(
            {"title_id": frame.index, "genre": labels, "predicted": predicted}
        ),
    )
