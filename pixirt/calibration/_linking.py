"""Linking two calibrations through common items, and parameter drift.

Two banks calibrated separately (each on its own N(0, 1) scale, say) put the same items
on different scales. :func:`link` finds the constants ``A`` and ``B`` of the linear
transformation from the *new* bank's scale to the *reference* bank's::

    θ_ref = A · θ_new + B,   a* = a_new / A,   b* = A · b_new + B,   c* = c_new

Methods (Kolen & Brennan, 2014, ch. 6), on the common items:

- ``"mean-mean"``: ``A = mean(a_new) / mean(a_ref)``, ``B = mean(b_ref) − A mean(b_new)``;
- ``"mean-sigma"``: ``A = sd(b_ref) / sd(b_new)``, same ``B``;
- ``"haebara"``: minimizes ``Σ_q w_q Σ_j [P_j(θ_q; ref) − P_j(θ_q; new*)]²`` (item
  characteristic curves, reference scale only: Haebara's criterion as in plink's
  default, non-symmetric);
- ``"stocking-lord"``: minimizes ``Σ_q w_q [Σ_j P_j(θ_q; ref) − Σ_j P_j(θ_q; new*)]²``
  (test characteristic curves).

The characteristic-curve criteria integrate over ``n_quad`` nodes spanning the reference
bank's latent mean ± 4 sd with normal weights, and start from the mean-sigma constants.
When both banks are Rasch, ``A`` is fixed at 1 (the logit unit is common: the banks
differ by a shift only).

Drift: after linking, each common item's linked parameters are compared with the
reference ones. An item is flagged when a difference is both large and beyond its
estimation error: ``|b* − b_ref| > b_threshold`` (0.3 logits by default) or
``|log(a* / a_ref)| > a_threshold`` (0.25 by default, a ratio outside [0.78, 1.28]), and
the difference's z (``z_b``, ``z_a``: the difference over the standard error combined from
both banks' ``se_b`` / ``se_a``, the new one rescaled by ``A``) exceeds ``z_threshold``
(1.96). Where a bank has no standard errors the z is NaN and the size threshold alone
decides. With ``purify=True`` (default) the flagged items are dropped from the anchor set
and the constants re-estimated until the set is stable (at most 10 rounds): drifted
items must not pull the scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from pixirt._item_bank import ItemBank
from pixirt._json import decode_float, json_value
from pixirt.exceptions import DataError
from pixirt.models import probability

__all__ = ["LINK_METHODS", "LinkMethod", "LinkingResult", "link"]

FloatArray = npt.NDArray[np.float64]
LinkMethod = Literal["mean-mean", "mean-sigma", "haebara", "stocking-lord"]
LINK_METHODS: tuple[LinkMethod, ...] = get_args(LinkMethod)


@dataclass(frozen=True, slots=True, eq=False)
class LinkingResult:
    """Linking constants from a new bank's scale to a reference bank's, and drift.

    Attributes
    ----------
    method
        The linking method.
    A, B
        ``θ_ref = A θ_new + B``.
    common
        Ids of the items in both banks.
    anchors
        The common items the final constants were computed on (after purification).
    criterion
        Value of the characteristic-curve criterion at the solution (NaN for the
        moment methods).
    b_threshold, a_threshold, z_threshold
        The drift thresholds.
    drift
        Indexed by ``item_id`` (common items): ``a_reference``, ``b_reference``,
        ``a_new``, ``b_new``, ``a_linked``, ``b_linked``, ``delta_b``, ``log_a_ratio``,
        ``z_b``, ``z_a``, ``flag_b``, ``flag_a``, ``drifted`` and ``anchor``.
    rounds
        Purification rounds run.
    """

    method: LinkMethod
    A: float
    B: float
    common: tuple[Any, ...]
    anchors: tuple[Any, ...]
    criterion: float
    b_threshold: float
    a_threshold: float
    drift: pd.DataFrame = field(repr=False)
    z_threshold: float = 1.96
    rounds: int = 1

    def transform(self, bank: ItemBank) -> ItemBank:
        """Put a bank on the reference scale (parameters, SEs and latent scale).

        Parameters
        ----------
        bank
            A bank on the new scale (typically the new calibration itself).

        Returns
        -------
        ItemBank
            ``a / A``, ``A b + B``, ``c``; ``se_a / A``, ``A se_b``; latent mean
            ``A μ + B`` and variance ``A² σ²``.
        """
        frame = bank.to_frame()
        frame["a"] = frame["a"] / self.A
        frame["b"] = self.A * frame["b"] + self.B
        frame["se_a"] = frame["se_a"] / self.A
        frame["se_b"] = frame["se_b"] * self.A
        return ItemBank.from_frame(
            frame,
            model=bank.model,
            latent_mean=self.A * bank.latent_mean + self.B,
            latent_variance=self.A**2 * bank.latent_variance,
        )

    @property
    def drifted(self) -> list[Any]:
        """Ids of the common items flagged for drift."""
        return self.drift.index[self.drift["drifted"]].tolist()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (the drift table as records)."""
        records = self.drift.reset_index().to_dict(orient="records")
        out: dict[str, Any] = json_value(
            {
                "method": self.method,
                "A": self.A,
                "B": self.B,
                "common": self.common,
                "anchors": self.anchors,
                "criterion": self.criterion,
                "b_threshold": self.b_threshold,
                "a_threshold": self.a_threshold,
                "z_threshold": self.z_threshold,
                "rounds": self.rounds,
                "drift": records,
            }
        )
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkingResult:
        """Rebuild from :meth:`to_dict` output."""
        for key in ("method", "A", "B", "common", "anchors", "drift"):
            if key not in data:
                raise DataError("missing key", field=key)
        drift = pd.DataFrame.from_records(list(data["drift"]))
        if len(drift):
            drift = drift.set_index("item_id")
            for col in drift.columns:
                if col in ("flag_b", "flag_a", "drifted", "anchor"):
                    drift[col] = drift[col].astype(bool)
                else:
                    drift[col] = drift[col].astype(np.float64)
        crit = data.get("criterion")
        return cls(
            method=data["method"],
            A=decode_float(data["A"], field="A"),
            B=decode_float(data["B"], field="B"),
            common=tuple(data["common"]),
            anchors=tuple(data["anchors"]),
            criterion=decode_float(crit, field="criterion"),
            b_threshold=float(data.get("b_threshold", 0.3)),
            a_threshold=float(data.get("a_threshold", 0.25)),
            drift=drift,
            z_threshold=float(data.get("z_threshold", 1.96)),
            rounds=int(data.get("rounds", 1)),
        )

    def summary(self) -> str:
        """A few lines: method, constants, anchors and drifted items."""
        shown = ", ".join(map(str, self.drifted[:10])) + (", …" if len(self.drifted) > 10 else "")
        return (
            f"{self.method} linking: θ_ref = {self.A:.4f} θ_new {'+' if self.B >= 0 else '−'} {abs(self.B):.4f}\n"
            f"common items: {len(self.common)}, anchors used: {len(self.anchors)} "
            f"({self.rounds} round(s))\n"
            f"drifted (|Δb| > {self.b_threshold:g} or |log a ratio| > {self.a_threshold:g}, "
            f"|z| > {self.z_threshold:g}): "
            f"{len(self.drifted)}{' (' + shown + ')' if shown else ''}"
        )

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(self.summary()) + "</pre>"


def _moments(
    method: LinkMethod, a_ref: FloatArray, b_ref: FloatArray, a_new: FloatArray, b_new: FloatArray
) -> tuple[float, float]:
    if method == "mean-mean":
        big_a = float(np.mean(a_new) / np.mean(a_ref))
    else:
        sd_new = float(np.std(b_new))
        if sd_new <= 0:
            raise DataError(
                "the common items' difficulties in the new bank have no spread", field="common"
            )
        big_a = float(np.std(b_ref)) / sd_new
    return big_a, float(np.mean(b_ref) - big_a * np.mean(b_new))


def _curve_criterion(
    method: LinkMethod,
    ref: tuple[FloatArray, FloatArray, FloatArray],
    new: tuple[FloatArray, FloatArray, FloatArray],
    nodes: FloatArray,
    weights: FloatArray,
    start: tuple[float, float],
    fix_a: bool,
) -> tuple[float, float, float]:
    p_ref = probability(nodes[:, None], *ref)

    def loss(x: FloatArray) -> float:
        big_a, big_b = (1.0, float(x[0])) if fix_a else (float(x[0]), float(x[1]))
        if big_a <= 0:
            return float("inf")
        p_new = probability(nodes[:, None], new[0] / big_a, big_a * new[1] + big_b, new[2])
        if method == "haebara":
            return float(np.sum(weights[:, None] * (p_ref - p_new) ** 2))
        return float(np.sum(weights * (p_ref.sum(axis=1) - p_new.sum(axis=1)) ** 2))

    x0 = np.array([start[1]] if fix_a else list(start))
    res = optimize.minimize(
        loss, x0, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000}
    )
    res = optimize.minimize(loss, res.x, method="BFGS", options={"gtol": 1e-12})
    x = res.x
    big_a, big_b = (1.0, float(x[0])) if fix_a else (float(x[0]), float(x[1]))
    return big_a, big_b, float(res.fun)


def link(
    reference: ItemBank,
    new: ItemBank,
    method: LinkMethod = "stocking-lord",
    *,
    common: Sequence[Any] | None = None,
    b_threshold: float = 0.3,
    a_threshold: float = 0.25,
    z_threshold: float = 1.96,
    purify: bool = True,
    n_quad: int = 41,
) -> LinkingResult:
    """Link a new bank to a reference bank's scale through their common items.

    Parameters
    ----------
    reference
        The bank whose scale is kept.
    new
        The bank to put on the reference scale.
    method
        ``"mean-mean"``, ``"mean-sigma"``, ``"haebara"`` or ``"stocking-lord"``.
    common
        Common item ids to use (default: every id in both banks).
    b_threshold, a_threshold
        Drift thresholds on ``|b* − b_ref|`` and ``|log(a* / a_ref)|``.
    z_threshold
        The difference must also exceed this many standard errors (when both banks
        carry them); 0 to flag on size alone.
    purify
        Drop drifted items from the anchors and re-estimate until stable.
    n_quad
        Nodes of the characteristic-curve criteria (reference latent mean ± 4 sd).

    Returns
    -------
    LinkingResult
        The constants, the anchors used and the drift table.

    Raises
    ------
    DataError
        Fewer than two common items, unknown ids in ``common``, bad method or thresholds.

    Examples
    --------
    >>> import pandas as pd
    >>> from pixirt import ItemBank
    >>> ref = ItemBank.from_frame(pd.DataFrame({"item_id": [1, 2, 3], "a": [1.0, 1.5, 0.8], "b": [-1.0, 0.0, 1.2]}))
    >>> new = ItemBank.from_frame(pd.DataFrame({"item_id": [1, 2, 3], "a": [2.0, 3.0, 1.6], "b": [-1.0, 1.0, 3.4]}))
    >>> r = link(ref, new, "mean-sigma")
    >>> round(r.A, 6), round(r.B, 6)
    (0.5, -0.5)
    """
    _check_link_arguments(reference, new, method, (b_threshold, a_threshold, z_threshold), n_quad)
    ids, pr, pn = _common_items(reference, new, common)
    ref_p = (reference.a[pr], reference.b[pr], reference.c[pr])
    new_p = (new.a[pn], new.b[pn], new.c[pn])
    fix_a = reference.model == "Rasch" and new.model == "Rasch"
    sd_ref = math.sqrt(reference.latent_variance)
    z = np.linspace(-4.0, 4.0, n_quad)
    nodes = reference.latent_mean + sd_ref * z
    weights = np.exp(-0.5 * z * z)
    weights /= weights.sum()
    anchor = np.ones(len(ids), dtype=bool)
    rounds = 0
    while True:  # purification: drifted items leave the anchors, to a fixed point
        rounds += 1
        ref_sel = (ref_p[0][anchor], ref_p[1][anchor], ref_p[2][anchor])
        new_sel = (new_p[0][anchor], new_p[1][anchor], new_p[2][anchor])
        big_a, big_b, crit = _constants(method, ref_sel, new_sel, nodes, weights, fix_a)
        drift = _drift_table(
            ids,
            reference,
            new,
            pr,
            pn,
            big_a,
            big_b,
            (b_threshold, a_threshold, z_threshold),
            anchor,
        )
        new_anchor = ~drift["drifted"].to_numpy()
        if not purify or rounds >= 10 or new_anchor.sum() < 2 or np.array_equal(new_anchor, anchor):
            break
        anchor = new_anchor
    return LinkingResult(
        method=method,
        A=big_a,
        B=big_b,
        common=tuple(ids.tolist()),
        anchors=tuple(ids[anchor].tolist()),
        criterion=crit,
        b_threshold=float(b_threshold),
        a_threshold=float(a_threshold),
        z_threshold=float(z_threshold),
        drift=drift,
        rounds=rounds,
    )


def _check_link_arguments(
    reference: ItemBank,
    new: ItemBank,
    method: str,
    thresholds: tuple[float, float, float],
    n_quad: int,
) -> None:
    """:func:`link`'s argument checks (a :class:`DataError` naming the argument)."""
    for name, bank in (("reference", reference), ("new", new)):
        if not isinstance(bank, ItemBank):
            raise DataError(f"expected an ItemBank, got {type(bank).__name__}", field=name)
    if method not in LINK_METHODS:
        raise DataError(
            f"The 'method' parameter must be one of {', '.join(map(repr, LINK_METHODS))}. Got {method!r} instead.",
            field="method",
        )
    for name, value in zip(("b_threshold", "a_threshold", "z_threshold"), thresholds, strict=True):
        if not (
            isinstance(value, float | int)
            and (value > 0 or (name == "z_threshold" and value == 0))
            and math.isfinite(value)
        ):
            raise DataError(
                f"The {name!r} parameter must be a positive number. Got {value!r} instead.",
                field=name,
            )
    if isinstance(n_quad, bool) or not isinstance(n_quad, int) or n_quad < 5:
        raise DataError(
            f"The 'n_quad' parameter must be an int >= 5. Got {n_quad!r} instead.", field="n_quad"
        )


def _common_items(
    reference: ItemBank, new: ItemBank, common: Sequence[Any] | None
) -> tuple[pd.Index, npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The common item ids and their rows in each bank (at least two, all in both banks)."""
    ref_index, new_index = pd.Index(reference.item_ids), pd.Index(new.item_ids)
    if common is None:
        ids = ref_index[ref_index.isin(new_index)]
    else:
        ids = pd.Index(list(common))
        for index, name in ((ref_index, "reference"), (new_index, "new")):
            missing = ~ids.isin(index)
            if missing.any():
                raise DataError(
                    f"common item {ids[missing][0]!r} is not in the {name} bank", field="common"
                )
    if len(ids) < 2:
        raise DataError(f"linking needs at least 2 common items, found {len(ids)}", field="common")
    return ids, ref_index.get_indexer(ids), new_index.get_indexer(ids)


def _constants(
    method: LinkMethod,
    ref: tuple[FloatArray, FloatArray, FloatArray],
    new: tuple[FloatArray, FloatArray, FloatArray],
    nodes: FloatArray,
    weights: FloatArray,
    fix_a: bool,
) -> tuple[float, float, float]:
    """``(A, B, criterion)`` on the anchors: moments, then the characteristic curves."""
    if fix_a:
        big_a, big_b = 1.0, float(np.mean(ref[1]) - np.mean(new[1]))
    else:
        moments: LinkMethod = "mean-mean" if method == "mean-mean" else "mean-sigma"
        big_a, big_b = _moments(moments, ref[0], ref[1], new[0], new[1])
    crit = float("nan")
    if method in ("haebara", "stocking-lord"):
        big_a, big_b, crit = _curve_criterion(
            method, ref, new, nodes, weights, (big_a, big_b), fix_a
        )
    return big_a, big_b, crit


def _drift_table(
    ids: pd.Index,
    reference: ItemBank,
    new: ItemBank,
    pr: npt.NDArray[np.intp],
    pn: npt.NDArray[np.intp],
    big_a: float,
    big_b: float,
    thresholds: tuple[float, float, float],
    anchor: npt.NDArray[np.bool_],
) -> pd.DataFrame:
    ref_f, new_f = reference.to_frame(), new.to_frame()
    a_ref, b_ref = reference.a[pr], reference.b[pr]
    a_new, b_new = new.a[pn], new.b[pn]
    a_lnk, b_lnk = a_new / big_a, big_a * b_new + big_b
    b_threshold, a_threshold, z_threshold = thresholds
    se_ref = ref_f["se_b"].to_numpy(dtype=np.float64)[pr]
    se_new = new_f["se_b"].to_numpy(dtype=np.float64)[pn] * big_a
    sa_ref = ref_f["se_a"].to_numpy(dtype=np.float64)[pr] / a_ref
    sa_new = new_f["se_a"].to_numpy(dtype=np.float64)[pn] / a_new  # relative: scale-free
    delta_b = b_lnk - b_ref
    log_ratio = np.log(a_lnk / a_ref)
    with np.errstate(invalid="ignore", divide="ignore"):
        z_b = delta_b / np.sqrt(se_ref**2 + se_new**2)
        z_a = log_ratio / np.sqrt(sa_ref**2 + sa_new**2)
    beyond_b = ~(np.abs(z_b) <= z_threshold)  # NaN (no SEs) counts as beyond
    beyond_a = ~(np.abs(z_a) <= z_threshold)
    flag_b = (np.abs(delta_b) > b_threshold) & beyond_b
    flag_a = (np.abs(log_ratio) > a_threshold) & beyond_a
    return pd.DataFrame(
        {
            "a_reference": a_ref,
            "b_reference": b_ref,
            "a_new": a_new,
            "b_new": b_new,
            "a_linked": a_lnk,
            "b_linked": b_lnk,
            "delta_b": delta_b,
            "log_a_ratio": log_ratio,
            "z_b": z_b,
            "z_a": z_a,
            "flag_b": flag_b,
            "flag_a": flag_a,
            "drifted": flag_b | flag_a,
            "anchor": anchor.copy(),
        },
        index=pd.Index(ids, name="item_id"),
    )
