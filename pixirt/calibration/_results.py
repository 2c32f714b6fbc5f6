"""The result of a calibration: the bank and how it was fitted.

:class:`CalibrationResult` is frozen and JSON-safe (:meth:`CalibrationResult.to_dict`,
:meth:`CalibrationResult.from_dict` round-trip exactly). :meth:`CalibrationResult.summary`
gives a printable :class:`CalibrationSummary` that Jupyter renders as HTML.

:class:`CalibrationError` (defined in :mod:`pixirt.exceptions`, re-exported here) is
raised when EM diverges or gives estimates that cannot go in a bank.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt._json import decode_float, encode_float, json_value
from pixirt.calibration._priors import Priors
from pixirt.exceptions import CalibrationError, DataError
from pixirt.models import Model

__all__ = ["CalibrationError", "CalibrationResult", "CalibrationSummary"]

_FORMAT = "pixirt-calibration/1"


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """A calibrated bank with the fit statistics and settings that produced it.

    Attributes
    ----------
    bank
        The calibrated :class:`~pixirt.ItemBank` (parameters, SEs, counts;
        ``model``, ``latent_mean`` and ``latent_variance`` set).
    loglik
        Marginal log-likelihood at the estimates.
    aic, bic
        ``−2 loglik + 2k`` and ``−2 loglik + k log(n_persons)``, ``k = n_parameters``.
    n_iter
        EM iterations (E-steps) run.
    converged
        Whether the largest parameter change fell below ``tol``.
    history
        Log-likelihood at each E-step on the EM path (non-decreasing; with priors, the
        log-posterior ``loglik + log_prior`` is what EM increases).
    model
        ``"Rasch"``, ``"1PL"``, ``"2PL"`` or ``"3PL"``.
    n_persons
        Persons with at least one answer.
    n_items
        Items of the log.
    n_fixed
        Items of the log held fixed at a given bank's parameters.
    n_answers
        Answers used.
    n_parameters
        Free parameters (item parameters and, for the Rasch model, the latent variance).
    log_prior
        Log-prior density at the estimates (0 without priors).
    latent_mean, latent_variance
        The latent scale (estimated variance for the Rasch model).
    latent_variance_se
        Standard error of the Rasch latent variance (NaN otherwise).
    last_change
        Largest absolute parameter change of the last EM step.
    tol, max_iter, n_quad, theta_range
        The settings.
    priors
        The priors used (empty for maximum likelihood).
    accelerate
        ``"squarem"`` or ``"none"``.
    se_method
        How standard errors were computed: ``"Louis, full"`` (inverse of the whole
        observed information), ``"Louis, item blocks"`` or ``"none"``.
    fixed_hash
        Hash of the bank whose items were held fixed, if any.
    seed
        The seed given (the EM itself is deterministic).
    seconds
        Wall time of the calibration.
    version
        pixirt version.
    problems
        The degenerate calibrated items, one row each (``item_id``, ``a``, ``b``,
        ``problem``: ``"diverging slope"``, ``"non-positive slope"`` or ``"diverging
        difficulty"``); empty for a clean fit. They are estimated (the bank holds them,
        for scoring and diagnostics) but :meth:`engine_bank` refuses them.
    groups
        Multiple-group calibration: one row per group (``group``, ``reference``,
        ``n_persons``, ``mean``, ``variance``: its latent distribution on the bank's
        scale); None for one group. ``latent_mean`` and ``latent_variance`` are the
        reference group's.
    """

    bank: ItemBank
    loglik: float
    aic: float
    bic: float
    n_iter: int
    converged: bool
    history: tuple[float, ...]
    model: Model
    n_persons: int
    n_items: int
    n_fixed: int
    n_answers: int
    n_parameters: int
    log_prior: float
    latent_mean: float
    latent_variance: float
    latent_variance_se: float
    last_change: float
    tol: float
    max_iter: int
    n_quad: int
    theta_range: tuple[float, float]
    priors: Priors
    accelerate: str
    se_method: str
    fixed_hash: str | None
    seed: int | None
    seconds: float
    version: str
    problems: pd.DataFrame = field(default_factory=lambda: _no_problems(), compare=False)
    groups: pd.DataFrame | None = field(default=None, compare=False)

    # ------------------------------------------------------------------ views
    def engine_bank(self) -> ItemBank:
        """The bank for the CAT engine: :attr:`bank`, refused if any item is degenerate.

        Returns
        -------
        ItemBank
            :attr:`bank` itself when :attr:`problems` is empty.

        Raises
        ------
        CalibrationError
            Naming the degenerate items: diverging estimates first, then non-positive
            slopes (the messages a calibration raised before it returned them flagged).
        """
        raise_problems(self.problems)
        return self.bank

    def to_frame(self) -> pd.DataFrame:
        """The bank's items as a DataFrame indexed by ``item_id``."""
        return self.bank.to_frame().set_index("item_id")

    def summary(self) -> CalibrationSummary:
        """A printable summary (text, and HTML in Jupyter)."""
        return CalibrationSummary(self)

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def __repr__(self) -> str:
        return (
            f"CalibrationResult({self.model}, {self.n_items} items, {self.n_persons:,} persons, "
            f"loglik={self.loglik:.4f}, n_iter={self.n_iter}, converged={self.converged})"
        )

    # ------------------------------------------------------------------ serialization
    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; :meth:`from_dict` rebuilds the result exactly."""
        return {
            "format": _FORMAT,
            "bank": self.bank.to_dict(),
            "loglik": encode_float(self.loglik),
            "aic": encode_float(self.aic),
            "bic": encode_float(self.bic),
            "n_iter": self.n_iter,
            "converged": self.converged,
            "history": [encode_float(v) for v in self.history],
            "model": self.model,
            "n_persons": self.n_persons,
            "n_items": self.n_items,
            "n_fixed": self.n_fixed,
            "n_answers": self.n_answers,
            "n_parameters": self.n_parameters,
            "log_prior": encode_float(self.log_prior),
            "latent_mean": encode_float(self.latent_mean),
            "latent_variance": encode_float(self.latent_variance),
            "latent_variance_se": encode_float(self.latent_variance_se),
            "last_change": encode_float(self.last_change),
            "tol": encode_float(self.tol),
            "max_iter": self.max_iter,
            "n_quad": self.n_quad,
            "theta_range": [encode_float(self.theta_range[0]), encode_float(self.theta_range[1])],
            "priors": self.priors.to_dict(),
            "accelerate": self.accelerate,
            "se_method": self.se_method,
            "fixed_hash": self.fixed_hash,
            "seed": self.seed,
            "seconds": encode_float(self.seconds),
            "version": self.version,
            "problems": [
                {
                    "item_id": json_value(i),
                    "a": encode_float(a),
                    "b": encode_float(b),
                    "problem": p,
                }
                for i, a, b, p in zip(
                    self.problems["item_id"].tolist(),
                    self.problems["a"].to_numpy(dtype=np.float64),
                    self.problems["b"].to_numpy(dtype=np.float64),
                    self.problems["problem"].astype(str).tolist(),
                    strict=True,
                )
            ],
            "groups": None
            if self.groups is None
            else [
                {
                    "group": json_value(g),
                    "reference": bool(r),
                    "n_persons": int(n),
                    "mean": encode_float(m),
                    "variance": encode_float(v),
                }
                for g, r, n, m, v in zip(
                    self.groups["group"].tolist(),
                    self.groups["reference"].tolist(),
                    self.groups["n_persons"].tolist(),
                    self.groups["mean"].to_numpy(dtype=np.float64),
                    self.groups["variance"].to_numpy(dtype=np.float64),
                    strict=True,
                )
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalibrationResult:
        """Rebuild a result from :meth:`to_dict` output.

        Raises
        ------
        DataError
            If a key is missing or the bank does not validate (naming the field).
        """
        if data.get("format") != _FORMAT:
            raise DataError(
                f"expected format {_FORMAT!r}, got {data.get('format')!r}", field="format"
            )
        try:
            lo, hi = data["theta_range"]
            return cls(
                bank=ItemBank.from_dict(data["bank"]),
                loglik=decode_float(data["loglik"]),
                aic=decode_float(data["aic"]),
                bic=decode_float(data["bic"]),
                n_iter=int(data["n_iter"]),
                converged=bool(data["converged"]),
                history=tuple(decode_float(v) for v in data["history"]),
                model=cast(Model, data["model"]),
                n_persons=int(data["n_persons"]),
                n_items=int(data["n_items"]),
                n_fixed=int(data["n_fixed"]),
                n_answers=int(data["n_answers"]),
                n_parameters=int(data["n_parameters"]),
                log_prior=decode_float(data["log_prior"]),
                latent_mean=decode_float(data["latent_mean"]),
                latent_variance=decode_float(data["latent_variance"]),
                latent_variance_se=decode_float(data["latent_variance_se"]),
                last_change=decode_float(data["last_change"]),
                tol=decode_float(data["tol"]),
                max_iter=int(data["max_iter"]),
                n_quad=int(data["n_quad"]),
                theta_range=(decode_float(lo), decode_float(hi)),
                priors=Priors.from_dict(data["priors"]),
                accelerate=str(data["accelerate"]),
                se_method=str(data["se_method"]),
                fixed_hash=data["fixed_hash"],
                seed=None if data["seed"] is None else int(data["seed"]),
                seconds=decode_float(data["seconds"]),
                version=str(data["version"]),
                problems=_problems_from(data.get("problems", [])),
                groups=_groups_from(data.get("groups")),
            )
        except KeyError as exc:
            raise DataError("missing key", field=str(exc.args[0])) from None


def _no_problems() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": pd.Series([], dtype=object),
            "a": pd.Series([], dtype=np.float64),
            "b": pd.Series([], dtype=np.float64),
            "problem": pd.Series([], dtype=object),
        }
    )


def _problems_from(rows: Any) -> pd.DataFrame:
    if not rows:
        return _no_problems()
    return pd.DataFrame(
        {
            "item_id": pd.Series([r["item_id"] for r in rows], dtype=object),
            "a": np.array([decode_float(r["a"]) for r in rows], dtype=np.float64),
            "b": np.array([decode_float(r["b"]) for r in rows], dtype=np.float64),
            "problem": pd.Series([str(r["problem"]) for r in rows], dtype=object),
        }
    )


def _groups_from(rows: Any) -> pd.DataFrame | None:
    if rows is None:
        return None
    return pd.DataFrame(
        {
            "group": pd.Series([r["group"] for r in rows], dtype=object),
            "reference": np.array([bool(r["reference"]) for r in rows]),
            "n_persons": np.array([int(r["n_persons"]) for r in rows], dtype=np.int64),
            "mean": np.array([decode_float(r["mean"]) for r in rows], dtype=np.float64),
            "variance": np.array([decode_float(r["variance"]) for r in rows], dtype=np.float64),
        }
    )


def raise_problems(problems: pd.DataFrame) -> None:
    """Raise :class:`CalibrationError` if ``problems`` (a result's) is not empty.

    The messages are those a calibration raised before it returned degenerate items
    flagged: diverging estimates first, then non-positive slopes.
    """
    if problems.empty:
        return
    wild = problems[problems["problem"] != "non-positive slope"]
    if len(wild):
        shown = ", ".join(
            f"{i!r} (a={x:.3g}, b={y:.3g})"
            for i, x, y in zip(wild["item_id"][:5], wild["a"][:5], wild["b"][:5], strict=True)
        )
        raise CalibrationError(
            f"estimates diverge for {len(wild)} item(s): {shown}; they carry too little "
            "information for maximum likelihood: use priors='default' or drop them"
        )
    shown = ", ".join(
        f"{i!r} (a={x:.3g})"
        for i, x in zip(problems["item_id"][:5], problems["a"][:5], strict=True)
    )
    raise CalibrationError(
        f"{len(problems)} item(s) have a non-positive discrimination: {shown}; a bank "
        "needs a > 0: check their answer key, drop them, or use priors='default' (its "
        "log-normal prior keeps a > 0)"
    )


class CalibrationSummary:
    """Text and HTML summary of a :class:`CalibrationResult` (statsmodels-style).

    Parameters
    ----------
    result
        The calibration to summarize.
    """

    __slots__ = ("result",)

    def __init__(self, result: CalibrationResult) -> None:
        self.result = result

    def _header(self) -> list[tuple[str, str]]:
        r = self.result
        scale = f"N({r.latent_mean:g}, {r.latent_variance:.4g})"
        if r.model == "Rasch" and r.n_fixed == 0:
            scale += f"  (variance SE {r.latent_variance_se:.3g})"
        status = "yes" if r.converged else f"NO (last change {r.last_change:.3g} ≥ tol {r.tol:g})"
        rows = [
            ("model", r.model),
            ("persons × items", f"{r.n_persons:,} × {r.n_items:,} ({r.n_answers:,} answers)"),
            (
                "fixed items",
                f"{r.n_fixed:,}" + (f" (bank {r.fixed_hash[:12]})" if r.fixed_hash else ""),
            ),
            ("free parameters", f"{r.n_parameters:,}"),
            ("priors", str(r.priors)),
            ("latent scale", scale),
            ("log-likelihood", f"{r.loglik:,.4f}"),
            ("AIC / BIC", f"{r.aic:,.2f} / {r.bic:,.2f}"),
            ("converged", status),
            (
                "EM iterations",
                f"{r.n_iter} ({r.accelerate}, tol {r.tol:g}, {r.n_quad} nodes on "
                f"[{r.theta_range[0]:g}, {r.theta_range[1]:g}])",
            ),
            ("standard errors", r.se_method),
            ("time", f"{r.seconds:.2f} s"),
        ]
        if r.groups is not None:
            shown = ", ".join(
                f"{g}{' (ref)' if ref else ''} N({m:.3g}, {v:.3g}) n={n:,}"
                for g, ref, n, m, v in zip(
                    r.groups["group"],
                    r.groups["reference"],
                    r.groups["n_persons"],
                    r.groups["mean"],
                    r.groups["variance"],
                    strict=True,
                )
            )
            rows.append(("groups", shown))
        if not r.problems.empty:
            shown = ", ".join(
                f"{i} ({p})"
                for i, p in zip(r.problems["item_id"], r.problems["problem"], strict=True)
            )
            rows.append(("degenerate items", f"{len(r.problems)}: {shown} (not for the engine)"))
        return rows

    def _parameters(self) -> pd.DataFrame:
        frame = self.result.bank.to_frame()
        cols = ["a", "b", "c", "se_a", "se_b", "se_c"]
        if self.result.model != "3PL":
            cols = ["a", "b", "se_a", "se_b"]
        desc = frame[cols].astype(np.float64).describe(percentiles=[0.5]).T
        return desc[["mean", "std", "min", "50%", "max"]].rename(columns={"50%": "median"})

    def as_text(self) -> str:
        """The summary as plain text."""
        header = self._header()
        width = max(len(k) for k, _ in header)
        lines = [f"pixirt calibration ({self.result.model})"]
        lines += [f"  {k.ljust(width)}  {v}" for k, v in header]
        lines.append("item parameters:")
        lines.append(self._parameters().to_string(float_format=lambda v: f"{v:.3f}"))
        return "\n".join(lines)

    def as_html(self) -> str:
        """The summary as an HTML fragment (tables)."""
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
            f"{html.escape(v)}</td></tr>"
            for k, v in self._header()
        )
        params = self._parameters().to_html(float_format=lambda v: f"{v:.3f}")
        return (
            f"<div><strong>pixirt calibration ({html.escape(self.result.model)})</strong>"
            f"<table>{rows}</table><p>item parameters</p>{params}</div>"
        )

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()
