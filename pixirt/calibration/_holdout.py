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
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pixirt._json import decode_float, json_value
from pixirt._response_log import ResponseLog
from pixirt._validation import check_choice
from pixirt.calibration._em import calibrate
from pixirt.calibration._holdout_predictions import Predict, check_log, holdout_predictions
from pixirt.calibration._holdout_scores import pairwise_gains, prediction_scores
from pixirt.calibration._priors import Priors
from pixirt.calibration._results import CalibrationResult
from pixirt.exceptions import DataError
from pixirt.models import MODELS, Model

_FORMAT = "pixirt-holdout/1"


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


def _read_number(v: Any) -> Any:
    """A table cell back from JSON: null and ±inf (``"inf"``) as floats, the rest as is."""
    return decode_float(v) if v is None or (isinstance(v, str) and v in ("inf", "-inf")) else v


def _frame_to_dict(frame: pd.DataFrame) -> dict[str, Any]:
    flat = frame.reset_index()
    return {
        "index": [str(c) for c in frame.index.names],
        "columns": {str(c): json_value(flat[c].tolist()) for c in flat.columns},
        "attrs": json_value(frame.attrs),
    }


def _frame_from_dict(data: Mapping[str, Any]) -> pd.DataFrame:
    index = list(data["index"])
    columns = {
        c: values if c in index else [_read_number(v) for v in values]
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
    log = check_log(log, "log")
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
    from pixirt._version import __version__

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
