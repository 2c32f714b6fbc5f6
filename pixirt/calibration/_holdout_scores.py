"""Scores of held-out predictions per model, and paired gains between models."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt._response_log import ResponseLog
from pixirt.calibration._holdout_metrics import answer_losses, check_pair, cluster_se, roc_auc
from pixirt.calibration._holdout_predictions import BASELINE, Predict, holdout_predictions
from pixirt.exceptions import DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


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
        yy, pp = check_pair(y, predictions[name].to_numpy(dtype=np.float64))
        losses[name] = answer_losses(yy, pp)
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
                "log_loss_se": cluster_se(losses[name], cluster, n_clusters),
                "auc": roc_auc(y, p),
                "brier": float(np.mean((p - y) ** 2)) if len(y) else math.nan,
                "gain": float(diff.mean()) if len(y) else math.nan,
                "gain_se": 0.0 if name == reference else cluster_se(diff, cluster, n_clusters),
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
            se = cluster_se(diff, cluster, n_clusters)
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
