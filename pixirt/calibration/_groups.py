"""Multiple-group calibration.

Each person's group, items freed per group (DIF), the groups' counts and estimates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._response_log import ResponseLog
from pixirt.calibration._data import Data, LocalData
from pixirt.calibration._state import State
from pixirt.exceptions import DataError

IntArray = npt.NDArray[np.int64]


def resolve_groups(log: ResponseLog, groups: Any, reference: Any) -> tuple[IntArray, list[Any]]:
    """Each person's group code (0: the reference) and the labels in code order."""
    if isinstance(groups, pd.Series):
        if not groups.index.is_unique:
            raise DataError("groups has duplicate person ids in its index", field="groups")
        values = groups.reindex(pd.Index(log.person_ids)).to_numpy(dtype=object)
    elif isinstance(groups, Mapping):
        values = (
            pd.Series(dict(groups), dtype=object)
            .reindex(pd.Index(log.person_ids))
            .to_numpy(dtype=object)
        )
    else:
        values = np.asarray(groups, dtype=object)
        if values.ndim != 1 or len(values) != log.n_persons:
            raise DataError(
                f"groups must have one label per person of the log ({log.n_persons}), "
                f"got shape {values.shape}",
                field="groups",
            )
    missing = pd.isna(pd.Series(values)).to_numpy() & (np.diff(log.indptr) > 0)
    if missing.any():
        raise DataError(
            f"{int(missing.sum())} person(s) with answers have no group, e.g. "
            f"{log.person_ids[int(np.flatnonzero(missing)[0])]!r}",
            field="groups",
        )
    labels = sorted(pd.unique(pd.Series(values).dropna()).tolist(), key=str)
    if reference is None:
        reference = labels[0]
    elif reference not in labels:
        raise DataError(
            f"reference group {reference!r} is not among the groups {[str(x) for x in labels]}",
            field="reference_group",
        )
    ordered = [reference, *[x for x in labels if x != reference]]
    codes = pd.Index(ordered).get_indexer(pd.Series(values).fillna(ordered[0]))
    return np.asarray(codes, dtype=np.int64), ordered


def free_per_group(
    log: ResponseLog, codes: IntArray, labels: Sequence[Any], free_items: Sequence[Any]
) -> ResponseLog:
    """The log with each non-reference group's answers to ``free_items`` as new items."""
    if log.item_ids.dtype.kind in "iu":
        raise DataError("free_items needs string item ids", field="free_items")
    wanted = list(free_items)
    pos = pd.Index(log.item_ids).get_indexer(pd.Index(wanted))
    if (pos < 0).any():
        raise DataError(
            f"free item {wanted[int(np.flatnonzero(pos < 0)[0])]!r} is not in the log",
            field="free_items",
        )
    n_other = len(labels) - 1
    rank = np.full(log.n_items, -1, dtype=np.int64)
    rank[pos] = np.arange(len(pos))
    group_of_answer = codes[log.person_index]
    moved = (rank[log.indices] >= 0) & (group_of_answer > 0)
    indices = log.indices.astype(np.int64)
    indices[moved] = log.n_items + rank[log.indices[moved]] * n_other + group_of_answer[moved] - 1
    new_ids = [f"{log.item_ids[p]}@{g}" for p in pos.tolist() for g in labels[1:]]
    return ResponseLog(
        log.indptr,
        indices,
        log.answers,
        log.person_ids,
        np.concatenate([np.asarray(log.item_ids, dtype=object), np.array(new_ids, dtype=object)]),
    )


def resolve_group_series(groups: Any, reference: Any) -> tuple[pd.Series, list[Any]]:
    """Group codes by person id (0: the reference) for partitioned sources."""
    if isinstance(groups, Mapping) and not isinstance(groups, pd.Series):
        groups = pd.Series(dict(groups), dtype=object)
    if not isinstance(groups, pd.Series):
        raise DataError(
            "with a partitioned source or a client, groups must be a Series indexed by "
            "person_id or a mapping",
            field="groups",
        )
    if not groups.index.is_unique:
        raise DataError("groups has duplicate person ids in its index", field="groups")
    present = groups.dropna()
    labels = sorted(pd.unique(present).tolist(), key=str)
    if not labels:
        raise DataError("groups has no label", field="groups")
    if reference is None:
        reference = labels[0]
    elif reference not in labels:
        raise DataError(
            f"reference group {reference!r} is not among the groups {[str(x) for x in labels]}",
            field="reference_group",
        )
    ordered = [reference, *[x for x in labels if x != reference]]
    codes = pd.Index(ordered).get_indexer(present)
    return pd.Series(codes.astype(np.int64), index=present.index), ordered


def count_groups(data: Data, n_groups: int) -> IntArray | None:
    """Persons with answers per group."""
    if not n_groups:
        return None
    if isinstance(data, LocalData):
        assert data.design.group is not None
        return np.bincount(data.design.group, minlength=n_groups).astype(np.int64)
    counts = getattr(data, "group_counts", None)
    if counts is None:
        return None
    out = np.zeros(n_groups, dtype=np.int64)
    out[: len(counts)] = counts
    return out


def groups_frame(labels: Sequence[Any], counts: IntArray | None, s: State) -> pd.DataFrame | None:
    if not labels or counts is None or s.g_mean is None or s.g_var is None:
        return None
    return pd.DataFrame(
        {
            "group": pd.Series(list(labels), dtype=object),
            "reference": np.arange(len(labels)) == 0,
            "n_persons": counts.astype(np.int64),
            "mean": s.g_mean.astype(np.float64),
            "variance": s.g_var.astype(np.float64),
        }
    )
