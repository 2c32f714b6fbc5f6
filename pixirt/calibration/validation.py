"""Held-out validation: how well calibrated items predict answers the calibration never saw.

A calibration's log-likelihood and AIC/BIC say how well a model fits the answers it was
fitted on. On a sparse log with few answers per item, a richer model (2PL over Rasch)
can fit better and predict worse. The check here is out of sample:

1. hold out a random share of the answers (:meth:`pixirt.ResponseLog.split`: every
   person and item keeps its training answers, the held-out ones are spread over them);
2. calibrate each model on the training answers;
3. for every held-out answer of person ``p`` to item ``i``, predict ``P(correct)`` from
   the person's ability given **their training answers** and item ``i``'s parameters;
4. score the predictions: log-loss (mean negative log-likelihood, lower is better),
   AUC (probability that a correct answer gets a higher prediction than a wrong one,
   higher is better) and Brier score.

Predictions (``predict``):

``"EAP"`` (default)
    ``P(θ̂_p, a_i, b_i, c_i)`` with ``θ̂_p`` the person's EAP score on their training
    answers (:func:`~pixirt.calibration.score_persons`, the bank's latent prior).
``"posterior"``
    The posterior predictive ``∫ P(θ, a_i, b_i, c_i) π(θ | training answers) dθ`` on the
    same quadrature grid: it also accounts for the uncertainty on θ, which matters for
    persons with few answers.

Persons with no training answer get the prior (mean ability, or the prior predictive).

The baseline ``"p-value"`` ignores persons: an answer to item ``i`` is predicted by the
item's proportion correct in training, smoothed towards the overall proportion ``p̄``,
``(right_i + s·p̄) / (n_i + s)`` with ``s = smoothing`` pseudo-answers (1 by default),
so an item answered right by all of its few training answers does not get a
probability of 1.

Every model is scored on the same held-out answers: those whose item is in every bank
and has at least one training answer (the others are counted as ``n_unscored``).

Noise. The standard errors (``log_loss_se``, ``gain_se``) are cluster-robust over
persons: a person's answers share one ability estimate, so they are not independent.
``gain`` is the mean log-loss of the reference model (the p-value baseline unless told)
minus the model's, computed on the same answers, so its standard error is that of a
paired difference and much smaller than the two log-losses' own.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import rankdata

from pixirt._validation import check_choice, check_in_range
from pixirt.calibration.ability import (
    align,
    blocks,
    check_n_quad,
    grid,
    grid_loglik,
    log_prob_table,
    normalize_rows,
    resolve_prior,
    score_persons,
)
from pixirt.calibration.em import calibrate
from pixirt.calibration.priors import Priors
from pixirt.calibration.results import CalibrationResult
from pixirt.exceptions import DataError
from pixirt.item_bank import ItemBank
from pixirt.models import MODELS, Model, probability
from pixirt.responses import ResponseLog

__all__ = [
    "BASELINE",
    "HoldoutResult",
    "holdout_predictions",
    "holdout_scores",
    "holdout_validation",
    "log_loss",
    "pairwise_gains",
    "prediction_scores",
    "roc_auc",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Predict = Literal["EAP", "posterior"]

#: Name of the item p-value baseline in predictions and scores.
BASELINE = "p-value"
_PREDICTS: tuple[Predict, ...] = ("EAP", "posterior")
_RESERVED = frozenset({"person_id", "item_id", "correct", "n_train_person", "n_train_item"})
#: Probabilities are clipped to [_EPS, 1 − _EPS] in the log-loss.
_EPS = 1e-15
#: Persons per block of the posterior computation, and held-out answers per gather.
_PERSON_BLOCK = 16_384
_ANSWER_BLOCK = 1 << 20
_GATHER = 1 << 16
_FORMAT = "pixirt-holdout/1"


# --------------------------------------------------------------------------- metrics
def _check_pair(y: npt.ArrayLike, p: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    yy = np.asarray(y, dtype=np.float64).ravel()
    pp = np.asarray(p, dtype=np.float64).ravel()
    if yy.shape != pp.shape:
        raise DataError(
            f"answers and predictions differ in length ({len(yy)} vs {len(pp)})", field="p"
        )
    if len(yy) and not np.isin(yy, (0.0, 1.0)).all():
        raise DataError("answers must be 0 or 1", field="y")
    if len(pp) and not (np.all(np.isfinite(pp)) and pp.min() >= 0.0 and pp.max() <= 1.0):
        raise DataError("predictions must be probabilities in [0, 1]", field="p")
    return yy, pp


def _losses(y: FloatArray, p: FloatArray) -> FloatArray:
    q = np.clip(p, _EPS, 1.0 - _EPS)
    return -(y * np.log(q) + (1.0 - y) * np.log1p(-q))


def log_loss(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Mean negative log-likelihood of 0/1 answers under predicted probabilities.

    Parameters
    ----------
    y
        Answers, 0 or 1.
    p
        Predicted probabilities of a correct answer (clipped to ``[1e-15, 1 − 1e-15]``).

    Returns
    -------
    float
        ``−mean(y log p + (1 − y) log(1 − p))`` in nats (NaN when empty); 0.693 for a
        coin flip.

    Examples
    --------
    >>> round(log_loss([1, 0], [0.5, 0.5]), 4)
    0.6931
    """
    yy, pp = _check_pair(y, p)
    return float(_losses(yy, pp).mean()) if len(yy) else math.nan


def roc_auc(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Area under the ROC curve (Mann–Whitney), ties counted one half.

    Parameters
    ----------
    y
        Answers, 0 or 1.
    p
        Predictions (any scores ordered like the probability of a correct answer).

    Returns
    -------
    float
        The probability that a random correct answer has a higher prediction than a
        random wrong one; NaN when all answers are equal.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    yy, pp = _check_pair(y, p)
    n1 = float(yy.sum())
    n0 = float(len(yy) - n1)
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = rankdata(pp)
    return float((ranks[yy == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _cluster_se(values: FloatArray, cluster: IntArray, n_clusters: int) -> float:
    """Standard error of ``values.mean()`` robust to correlation within clusters."""
    n = len(values)
    if n == 0 or n_clusters < 2:
        return math.nan
    mean = values.mean()
    sums = np.bincount(cluster, weights=values - mean, minlength=n_clusters)
    return float(math.sqrt(n_clusters / (n_clusters - 1) * float(np.sum(sums * sums))) / n)


# --------------------------------------------------------------------------- predictions
def _named_banks(banks: ItemBank | Mapping[str, ItemBank]) -> dict[str, ItemBank]:
    if isinstance(banks, ItemBank):
        named = {str(banks.model): banks}
    elif isinstance(banks, Mapping):
        named = {str(k): v for k, v in banks.items()}
    else:
        raise DataError(
            "The 'banks' parameter must be an ItemBank or a mapping of names to ItemBanks. "
            f"Got {type(banks).__name__} instead.",
            field="banks",
        )
    if not named:
        raise DataError("The 'banks' parameter holds no bank.", field="banks")
    for name, bank in named.items():
        if not isinstance(bank, ItemBank):
            raise DataError(
                f"banks[{name!r}] must be an ItemBank. Got {type(bank).__name__} instead.",
                field="banks",
            )
        if name == BASELINE or name in _RESERVED:
            raise DataError(
                f"banks: the name {name!r} is reserved for a column of the predictions",
                field="banks",
            )
    return named


def _check_log(log: Any, name: str) -> ResponseLog:
    if not isinstance(log, ResponseLog):
        raise DataError(
            f"The {name!r} parameter must be a ResponseLog. Got {type(log).__name__} instead.",
            field=name,
        )
    return log


def _eap_predictions(
    train: ResponseLog,
    bank: ItemBank,
    person: IntArray,
    item: IntArray,
    n_quad: int,
) -> FloatArray:
    scores = score_persons(train, bank, "EAP", n_quad=n_quad)
    theta = np.append(scores["theta"].to_numpy(dtype=np.float64), bank.latent_mean)
    th = theta[np.where(person < 0, len(theta) - 1, person)]
    return probability(th, bank.a[item], bank.b[item], bank.c[item])


def _posterior_predictions(
    train: ResponseLog,
    bank: ItemBank,
    person: IntArray,
    item: IntArray,
    n_quad: int,
) -> FloatArray:
    al = align(train, bank)
    mean, sd = resolve_prior(bank, None)
    nodes, log_w = grid(mean, sd, n_quad)
    table = log_prob_table(al.a, al.b, al.c, nodes)
    out = np.empty(len(person))

    def node_probabilities(rows: IntArray) -> FloatArray:
        i = item[rows][:, None]
        return probability(nodes[None, :], bank.a[i], bank.b[i], bank.c[i])

    order = np.argsort(person, kind="stable")
    sorted_person = person[order]
    no_train = order[: int(np.searchsorted(sorted_person, 0))]
    weights = np.exp(log_w)
    for s in range(0, len(no_train), _GATHER):
        rows = no_train[s : s + _GATHER]
        out[rows] = node_probabilities(rows) @ weights
    for start, stop in blocks(al.indptr, max_persons=_PERSON_BLOCK, max_answers=_ANSWER_BLOCK):
        lo, hi = np.searchsorted(sorted_person, [start, stop])
        if lo == hi:
            continue
        post = normalize_rows(grid_loglik(al, start, stop, table) + log_w)
        for s in range(int(lo), int(hi), _GATHER):
            rows = order[s : min(s + _GATHER, int(hi))]
            out[rows] = np.einsum("ij,ij->i", post[person[rows] - start], node_probabilities(rows))
    return np.clip(out, 0.0, 1.0)


def holdout_predictions(
    train: ResponseLog,
    test: ResponseLog,
    banks: ItemBank | Mapping[str, ItemBank],
    *,
    predict: Predict = "EAP",
    smoothing: float = 1.0,
    n_quad: int = 61,
) -> pd.DataFrame:
    """Predict every held-out answer from the person's training answers, per bank.

    Parameters
    ----------
    train
        The answers the banks were calibrated on (persons' abilities come from them);
        every item answered in ``train`` must be in every bank.
    test
        The held-out answers. Persons and items are matched with ``train`` and the
        banks by id.
    banks
        One bank (named by its model) or a mapping ``{name: bank}``, e.g.
        ``{"Rasch": rasch.bank, "2PL": twopl.bank}``.
    predict
        ``"EAP"`` (the probability at the person's EAP score) or ``"posterior"`` (the
        posterior predictive probability); see the module docstring.
    smoothing
        Pseudo-answers at the overall proportion correct added to each item's training
        answers in the p-value baseline (0 gives raw p-values).
    n_quad
        Quadrature nodes of the ability posterior (over the bank's prior ± 6 sd).

    Returns
    -------
    pandas.DataFrame
        One row per scored held-out answer, in the order of ``test``: ``person_id``,
        ``item_id``, ``correct``, ``n_train_person`` and ``n_train_item`` (training
        answers of the person and of the item), then one probability column per model:
        ``"p-value"`` and each bank's name. ``attrs`` records ``models``, ``predict``,
        ``smoothing``, ``n_test_answers`` and ``n_unscored`` (held-out answers on items
        absent from a bank or without training answers).

    Raises
    ------
    DataError
        Bad argument (naming it), training answers on items absent from a bank.

    Examples
    --------
    >>> from pixirt.simulation import pix_like_bank, simulate_answers
    >>> bank = pix_like_bank(seed=1).subset([f"ch{i:05d}" for i in range(1, 41)])
    >>> train, test = simulate_answers(bank, 500, answers_per_person=20, seed=3).log.split(0.2, seed=0)
    >>> pred = holdout_predictions(train, test, {"truth": bank})
    >>> list(pred.columns)
    ['person_id', 'item_id', 'correct', 'n_train_person', 'n_train_item', 'p-value', 'truth']
    """
    train = _check_log(train, "train")
    test = _check_log(test, "test")
    named = _named_banks(banks)
    check_choice(predict, "predict", _PREDICTS)
    smoothing = check_in_range(smoothing, "smoothing", 0.0, math.inf)
    n_quad = check_n_quad(n_quad)

    person_map = pd.Index(train.person_ids).get_indexer(pd.Index(test.person_ids))
    train_item_map = pd.Index(train.item_ids).get_indexer(pd.Index(test.item_ids))
    n_item = np.bincount(train.indices, minlength=train.n_items).astype(np.int64)
    right_item = np.bincount(train.indices, weights=train.answers, minlength=train.n_items)
    n_person = np.diff(train.indptr)

    t_person = person_map[test.person_index]
    t_train_item = train_item_map[test.indices]
    n_train_item = np.where(t_train_item >= 0, n_item[np.maximum(t_train_item, 0)], 0)
    scored = n_train_item > 0
    bank_items: dict[str, IntArray] = {}
    for name, bank in named.items():
        pos = np.asarray(
            pd.Index(bank.item_ids).get_indexer(pd.Index(test.item_ids)), dtype=np.int64
        )
        scored &= pos[test.indices] >= 0
        bank_items[name] = pos
    rows = np.flatnonzero(scored)
    person = np.asarray(t_person[rows], dtype=np.int64)
    train_item = t_train_item[rows]

    frame: dict[str, Any] = {
        "person_id": test.person_ids[test.person_index[rows]],
        "item_id": test.item_ids[test.indices[rows]],
        "correct": test.answers[rows].astype(np.int8),
        "n_train_person": np.where(person >= 0, n_person[np.maximum(person, 0)], 0).astype(
            np.int64
        ),
        "n_train_item": n_train_item[rows].astype(np.int64),
    }
    overall = float(train.answers.mean()) if train.n_answers else 0.5
    frame[BASELINE] = (right_item[train_item] + smoothing * overall) / (
        n_item[train_item] + smoothing
    )
    predictor = _eap_predictions if predict == "EAP" else _posterior_predictions
    for name, bank in named.items():
        item = bank_items[name][test.indices[rows]]
        frame[name] = predictor(train, bank, person, item, n_quad)
    out = pd.DataFrame(frame)
    out.attrs.update(
        models=[BASELINE, *named],
        predict=predict,
        smoothing=smoothing,
        n_test_answers=int(test.n_answers),
        n_unscored=int(test.n_answers - len(rows)),
    )
    return out


def _prediction_losses(
    predictions: pd.DataFrame, names: list[str]
) -> tuple[FloatArray, IntArray, int, dict[str, FloatArray]]:
    """Answers, person clusters, their number and the per-answer log-loss of each model."""
    if not isinstance(predictions, pd.DataFrame):
        raise DataError(
            f"The 'predictions' parameter must be a DataFrame. Got {type(predictions).__name__} instead.",
            field="predictions",
        )
    for col in ("person_id", "correct", *names):
        if col not in predictions.columns:
            raise DataError(
                f"missing column; columns are {list(map(str, predictions.columns))}",
                field=col,
            )
    y = predictions["correct"].to_numpy(dtype=np.float64)
    codes, uniques = pd.factorize(predictions["person_id"])
    losses = {}
    for name in names:
        yy, pp = _check_pair(y, predictions[name].to_numpy(dtype=np.float64))
        losses[name] = _losses(yy, pp)
    return y, np.asarray(codes, dtype=np.int64), len(uniques), losses


def _model_names(predictions: pd.DataFrame, models: Sequence[str] | None) -> list[str]:
    names = [
        str(m) for m in (models if models is not None else predictions.attrs.get("models", []))
    ]
    if not names:
        raise DataError("no model to score: pass models=[...]", field="models")
    return names


def prediction_scores(
    predictions: pd.DataFrame,
    *,
    models: Sequence[str] | None = None,
    reference: str = BASELINE,
) -> pd.DataFrame:
    """Log-loss, AUC and Brier score of each model's predictions, with paired gains.

    Parameters
    ----------
    predictions
        Output of :func:`holdout_predictions` (columns ``person_id``, ``correct`` and
        one probability column per model).
    models
        Columns to score (default: ``predictions.attrs["models"]``).
    reference
        The model the gains are measured against.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``model``: ``n_answers``, ``log_loss``, ``log_loss_se``, ``auc``,
        ``brier``, ``gain`` (reference log-loss minus the model's: positive when the
        model predicts better) and ``gain_se`` (cluster-robust over persons).
        ``attrs["reference"]`` names the reference.
    """
    names = _model_names(predictions, models)
    if reference not in names:
        names.insert(0, reference)
    y, cluster, n_clusters, losses = _prediction_losses(predictions, names)
    ref = losses[reference]
    rows = []
    for name in names:
        p = predictions[name].to_numpy(dtype=np.float64)
        diff = ref - losses[name]
        rows.append(
            {
                "model": name,
                "n_answers": len(y),
                "log_loss": float(losses[name].mean()) if len(y) else math.nan,
                "log_loss_se": _cluster_se(losses[name], cluster, n_clusters),
                "auc": roc_auc(y, p),
                "brier": float(np.mean((p - y) ** 2)) if len(y) else math.nan,
                "gain": float(diff.mean()) if len(y) else math.nan,
                "gain_se": 0.0 if name == reference else _cluster_se(diff, cluster, n_clusters),
            }
        )
    out = pd.DataFrame(rows).set_index("model")
    out.attrs["reference"] = reference
    return out


def pairwise_gains(
    predictions: pd.DataFrame, *, models: Sequence[str] | None = None
) -> pd.DataFrame:
    """Log-loss gain of every model over every other, on the same held-out answers.

    Parameters
    ----------
    predictions
        Output of :func:`holdout_predictions`.
    models
        Columns to compare (default: ``predictions.attrs["models"]``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(model, reference)`` for every ordered pair of distinct models:
        ``gain`` (mean log-loss of ``reference`` minus that of ``model``; positive when
        ``model`` predicts better), ``gain_se`` (cluster-robust over persons) and
        ``z = gain / gain_se``. A gain within two standard errors of 0 is noise.
    """
    names = _model_names(predictions, models)
    _, cluster, n_clusters, losses = _prediction_losses(predictions, names)
    rows = []
    for name in names:
        for ref in names:
            if ref == name:
                continue
            diff = losses[ref] - losses[name]
            gain = float(diff.mean()) if len(diff) else math.nan
            se = _cluster_se(diff, cluster, n_clusters)
            rows.append(
                {
                    "model": name,
                    "reference": ref,
                    "gain": gain,
                    "gain_se": se,
                    "z": gain / se if se > 0 else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=["model", "reference", "gain", "gain_se", "z"]).set_index(
        ["model", "reference"]
    )


def holdout_scores(
    train: ResponseLog,
    test: ResponseLog,
    banks: ItemBank | Mapping[str, ItemBank],
    *,
    predict: Predict = "EAP",
    smoothing: float = 1.0,
    n_quad: int = 61,
    reference: str = BASELINE,
) -> pd.DataFrame:
    """Held-out log-loss and AUC of the p-value baseline and of each bank.

    :func:`holdout_predictions` followed by :func:`prediction_scores`.

    Parameters
    ----------
    train, test, banks, predict, smoothing, n_quad
        As in :func:`holdout_predictions`.
    reference
        The model the gains are measured against (``"p-value"`` or a bank's name).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``model`` (``"p-value"`` first, then the banks): ``n_answers``,
        ``log_loss``, ``log_loss_se``, ``auc``, ``brier``, ``gain``, ``gain_se``.
        ``attrs`` adds ``predict``, ``smoothing``, ``n_test_answers`` and
        ``n_unscored``.

    Examples
    --------
    >>> from pixirt.simulation import pix_like_bank, simulate_answers
    >>> bank = pix_like_bank(seed=1).subset([f"ch{i:05d}" for i in range(1, 41)])
    >>> train, test = simulate_answers(bank, 2_000, answers_per_person=20, seed=3).log.split(0.2, seed=0)
    >>> scores = holdout_scores(train, test, {"truth": bank})
    >>> bool(scores.loc["truth", "log_loss"] < scores.loc["p-value", "log_loss"])
    True
    """
    pred = holdout_predictions(
        train, test, banks, predict=predict, smoothing=smoothing, n_quad=n_quad
    )
    out = prediction_scores(pred, reference=reference)
    out.attrs.update({k: v for k, v in pred.attrs.items() if k != "models"})
    return out


# --------------------------------------------------------------------------- one call
_FIT_COLUMNS = ("loglik", "n_parameters", "aic", "bic", "n_iter", "converged", "seconds")


@dataclass(frozen=True, slots=True)
class HoldoutResult:
    """Held-out validation of several models on one log (see :func:`holdout_validation`).

    Attributes
    ----------
    scores
        :func:`holdout_scores` table, indexed by ``model`` (``"p-value"`` first; gains
        against the p-value baseline).
    comparisons
        :func:`pairwise_gains` table, indexed by ``(model, reference)``: the paired
        log-loss gain of each model over each other one, with its standard error.
    calibrations
        ``{model: CalibrationResult}`` of the training calibrations.
    fraction, seed
        Share of answers held out and the split's seed.
    predict, smoothing
        How held-out answers were predicted (see :func:`holdout_predictions`).
    n_answers, n_train_answers, n_test_answers
        Answers of the log, of the training part and of the held-out part.
    n_scored
        Held-out answers scored (on items with training answers).
    n_items_dropped
        Items with no training answer, left out of the calibrations.
    seconds
        Wall time of the whole validation.
    version
        pixirt version.
    """

    scores: pd.DataFrame
    comparisons: pd.DataFrame
    calibrations: Mapping[str, CalibrationResult]
    fraction: float
    seed: int
    predict: str
    smoothing: float
    n_answers: int
    n_train_answers: int
    n_test_answers: int
    n_scored: int
    n_items_dropped: int
    seconds: float
    version: str

    def to_frame(self) -> pd.DataFrame:
        """The scores joined with each calibration's fit (missing for the p-value baseline).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``model``: the score columns, then ``loglik``, ``n_parameters``,
            ``aic``, ``bic``, ``n_iter``, ``converged`` and ``seconds`` (training fit).
        """
        fits = pd.DataFrame(
            [
                {"model": name, **{col: getattr(res, col) for col in _FIT_COLUMNS}}
                for name, res in self.calibrations.items()
            ],
            columns=["model", *_FIT_COLUMNS],
        ).set_index("model")
        out = self.scores.join(fits, how="left")
        return out.astype({"n_parameters": "Int64", "n_iter": "Int64", "converged": "boolean"})

    def gain(self, model: str, reference: str) -> float:
        """Mean held-out log-loss of ``reference`` minus that of ``model`` (positive: ``model`` is better).

        Parameters
        ----------
        model, reference
            Two of ``scores.index``.

        Returns
        -------
        float
            The paired gain; its standard error is ``comparisons.loc[(model, reference), "gain_se"]``.
        """
        key = (model, reference)
        if key not in self.comparisons.index:
            raise DataError(
                f"no comparison of {model!r} with {reference!r}; models are {list(self.scores.index)}",
                field="model",
            )
        return float(self.comparisons["gain"].to_numpy()[self.comparisons.index.get_loc(key)])

    def __repr__(self) -> str:
        best = self.scores["log_loss"].idxmin()
        return (
            f"HoldoutResult({', '.join(map(str, self.scores.index))}; "
            f"{self.n_scored:,} held-out answers, best log-loss: {best})"
        )

    def _head(self) -> str:
        return (
            f"held-out validation: {self.n_test_answers:,} of {self.n_answers:,} answers held out "
            f"(fraction {self.fraction:g}, seed {self.seed}), {self.n_scored:,} scored; "
            f"predictions {self.predict}"
        )

    def as_text(self) -> str:
        """The scores, the fits and the pairwise gains as plain text."""
        return "\n".join(
            [
                self._head(),
                self.to_frame().to_string(float_format=_four),
                "paired log-loss gains (model over reference):",
                self.comparisons.to_string(float_format=_four),
            ]
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><p>{html.escape(self._head())}</p>"
            f"{self.to_frame().to_html(float_format=_four)}"
            f"<p>paired log-loss gains (model over reference)</p>"
            f"{self.comparisons.to_html(float_format=_four)}</div>"
        )

    # ------------------------------------------------------------------ serialization
    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; :meth:`from_dict` rebuilds the result."""
        return {
            "format": _FORMAT,
            "scores": _frame_to_dict(self.scores),
            "comparisons": _frame_to_dict(self.comparisons),
            "calibrations": {k: v.to_dict() for k, v in self.calibrations.items()},
            "fraction": self.fraction,
            "seed": self.seed,
            "predict": self.predict,
            "smoothing": self.smoothing,
            "n_answers": self.n_answers,
            "n_train_answers": self.n_train_answers,
            "n_test_answers": self.n_test_answers,
            "n_scored": self.n_scored,
            "n_items_dropped": self.n_items_dropped,
            "seconds": self.seconds,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HoldoutResult:
        """Rebuild a result from :meth:`to_dict` output.

        Raises
        ------
        DataError
            Wrong format or a missing key (naming it).
        """
        if data.get("format") != _FORMAT:
            raise DataError(
                f"expected format {_FORMAT!r}, got {data.get('format')!r}", field="format"
            )
        try:
            scores = _frame_from_dict(data["scores"])
            scores["n_answers"] = scores["n_answers"].astype(np.int64)
            return cls(
                scores=scores,
                comparisons=_frame_from_dict(data["comparisons"]),
                calibrations={
                    k: CalibrationResult.from_dict(v) for k, v in data["calibrations"].items()
                },
                fraction=float(data["fraction"]),
                seed=int(data["seed"]),
                predict=str(data["predict"]),
                smoothing=float(data["smoothing"]),
                n_answers=int(data["n_answers"]),
                n_train_answers=int(data["n_train_answers"]),
                n_test_answers=int(data["n_test_answers"]),
                n_scored=int(data["n_scored"]),
                n_items_dropped=int(data["n_items_dropped"]),
                seconds=float(data["seconds"]),
                version=str(data["version"]),
            )
        except KeyError as exc:
            raise DataError("missing key", field=str(exc.args[0])) from None


def _four(v: float) -> str:
    return f"{v:.4f}"


def _json_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _frame_to_dict(frame: pd.DataFrame) -> dict[str, Any]:
    flat = frame.reset_index()
    return {
        "index": [str(c) for c in frame.index.names],
        "columns": {str(c): [_json_value(v) for v in flat[c].tolist()] for c in flat.columns},
        "attrs": {str(k): _json_value(v) for k, v in frame.attrs.items()},
    }


def _frame_from_dict(data: Mapping[str, Any]) -> pd.DataFrame:
    index = list(data["index"])
    columns = {
        c: values if c in index else [math.nan if v is None else v for v in values]
        for c, values in data["columns"].items()
    }
    frame = pd.DataFrame(columns).set_index(index)
    frame.attrs.update(data["attrs"])
    return frame


def holdout_validation(
    log: ResponseLog,
    models: Sequence[Model] = ("Rasch", "2PL"),
    *,
    fraction: float = 0.2,
    seed: int = 0,
    priors: Priors | str | None = "default",
    predict: Predict = "EAP",
    smoothing: float = 1.0,
    max_iter: int = 500,
    tol: float = 1e-4,
    n_quad: int = 61,
) -> HoldoutResult:
    """Split a log, calibrate each model on the training part, score the held-out answers.

    Parameters
    ----------
    log
        The whole log.
    models
        Models to calibrate (``"Rasch"``, ``"1PL"``, ``"2PL"``, ``"3PL"``), each
        compared with the p-value baseline.
    fraction
        Share of the answers held out, in (0, 1) (:meth:`ResponseLog.split`).
    seed
        Seed of the split.
    priors
        Passed to :func:`~pixirt.calibration.calibrate`. ``"default"`` (the default
        here) because real logs have items with few answers, some always right or
        always wrong in training; None for maximum likelihood.
    predict, smoothing
        As in :func:`holdout_predictions`.
    max_iter, tol, n_quad
        Passed to :func:`~pixirt.calibration.calibrate` (no standard errors are
        computed); ``n_quad`` also sets the scoring grid.

    Returns
    -------
    HoldoutResult
        The scores (``result.to_frame()`` adds each calibration's fit) and the
        training calibrations.

    Raises
    ------
    DataError
        Bad argument (naming it).
    CalibrationError
        If a calibration diverges.

    Warns
    -----
    ConvergenceWarning
        If a calibration stops at ``max_iter``.

    Examples
    --------
    >>> from pixirt.datasets import pisa2012_us_math
    >>> result = holdout_validation(pisa2012_us_math(), seed=0)
    >>> list(result.scores.index)
    ['p-value', 'Rasch', '2PL']
    """
    started = time.perf_counter()
    log = _check_log(log, "log")
    if isinstance(models, str) or not isinstance(models, Sequence) or not models:
        raise DataError(
            f"The 'models' parameter must be a non-empty sequence of models. Got {models!r} instead.",
            field="models",
        )
    for m in models:
        check_choice(m, "models", MODELS)
    if len(set(models)) != len(models):
        raise DataError(f"The 'models' parameter repeats a model: {list(models)!r}", field="models")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(
            f"The 'seed' parameter must be a non-negative int. Got {seed!r} instead.", field="seed"
        )
    train, test = log.split(fraction, seed=int(seed))
    answered = np.bincount(train.indices, minlength=train.n_items) > 0
    n_dropped = int((~answered).sum())
    fit_log = train.subset(items=train.item_ids[answered]) if n_dropped else train
    calibrations: dict[str, CalibrationResult] = {}
    for m in models:
        calibrations[m] = calibrate(
            fit_log,
            m,
            priors=priors,
            max_iter=max_iter,
            tol=tol,
            n_quad=n_quad,
            progress=False,
            se="none",
            seed=int(seed),
        )
    pred = holdout_predictions(
        fit_log,
        test,
        {m: r.bank for m, r in calibrations.items()},
        predict=predict,
        smoothing=smoothing,
        n_quad=n_quad,
    )
    scores = prediction_scores(pred)
    scores.attrs.update({k: v for k, v in pred.attrs.items() if k != "models"})
    from pixirt import __version__

    return HoldoutResult(
        scores=scores,
        comparisons=pairwise_gains(pred),
        calibrations=calibrations,
        fraction=float(fraction),
        seed=int(seed),
        predict=predict,
        smoothing=float(smoothing),
        n_answers=int(log.n_answers),
        n_train_answers=int(train.n_answers),
        n_test_answers=int(test.n_answers),
        n_scored=len(pred),
        n_items_dropped=n_dropped,
        seconds=time.perf_counter() - started,
        version=__version__,
    )
