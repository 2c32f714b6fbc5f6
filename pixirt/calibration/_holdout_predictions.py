"""Predictions of held-out answers from banks calibrated on the training answers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt._response_log import ResponseLog
from pixirt._validation import check_choice, check_in_range
from pixirt.calibration._ability import (
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
from pixirt.exceptions import DataError
from pixirt.models import probability

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Predict = Literal["EAP", "posterior"]

#: Name of the item p-value baseline in predictions and scores.
BASELINE = "p-value"
_PREDICTS: tuple[Predict, ...] = ("EAP", "posterior")
_RESERVED = frozenset({"person_id", "item_id", "correct", "n_train_person", "n_train_item"})
#: Persons per block of the posterior computation, and held-out answers per gather.
_PERSON_BLOCK = 16_384
_ANSWER_BLOCK = 1 << 20
_GATHER = 1 << 16


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


def check_log(log: Any, name: str) -> ResponseLog:
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
    train = check_log(train, "train")
    test = check_log(test, "test")
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
