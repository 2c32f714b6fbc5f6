"""Power and false-positive rate of the DIF tests, by simulation.

:func:`dif_power_study` simulates two-group data with DIF planted on known items and
reports the power and false-positive rate of both tests over repeated seeds.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._answers import simulate_answers
from pixirt._item_bank import ItemBank
from pixirt._response_log import ResponseLog
from pixirt.calibration._dif_groups import Correction, adjusted
from pixirt.calibration._dif_irt import irt_dif
from pixirt.calibration._dif_mh import mantel_haenszel_dif
from pixirt.exceptions import DataError


def _two_group_log(
    bank: ItemBank,
    focal_bank: ItemBank,
    n_reference: int,
    n_focal: int,
    answers_per_person: int,
    impact: float,
    seed: int,
) -> tuple[ResponseLog, pd.Series]:
    s_ref, s_foc = np.random.SeedSequence(seed).generate_state(2)
    ref = simulate_answers(
        bank, n_reference, answers_per_person=answers_per_person, seed=int(s_ref)
    )
    foc = simulate_answers(
        focal_bank,
        n_focal,
        answers_per_person=answers_per_person,
        theta_mean=-impact,
        seed=int(s_foc),
    )
    f_ref, f_foc = ref.log.to_frame(), foc.log.to_frame()
    f_foc["person_id"] = f_foc["person_id"] + n_reference
    log = ResponseLog.from_frame(pd.concat([f_ref, f_foc], ignore_index=True))
    groups = pd.Series(
        np.where(log.person_ids < n_reference, "reference", "focal"),
        index=pd.Index(log.person_ids, name="person_id"),
    )
    return log, groups


def dif_power_study(
    *,
    n_replications: int = 20,
    n_items: int = 40,
    dif_items: int = 4,
    dif_size: float = 0.6,
    n_reference: int = 1000,
    n_focal: int = 1000,
    answers_per_person: int | None = None,
    impact: float = 0.5,
    alpha: float = 0.05,
    purify: bool = False,
    seed: int = 0,
    correction: Correction = "bh",
) -> pd.DataFrame:
    """Power and false-positive rate of the MH and IRT DIF tests, by simulation.

    Each replication draws a 2PL bank (``a ~ lognormal(0, 0.25)``, ``b ~ N(0, 1)``),
    reference abilities ``N(0, 1)`` and focal abilities ``N(−impact, 1)``, and makes the
    first ``dif_items`` items harder for the focal group by ``dif_size`` (uniform DIF
    on ``b``). Both tests run with the generating (reference) parameters as the bank
    and every other item as anchor.

    Parameters
    ----------
    n_replications
        Replications (one seed each, derived from ``seed``).
    n_items, dif_items, dif_size
        Test length, number of items with planted DIF and its size (``b`` shift).
    n_reference, n_focal
        Group sizes.
    answers_per_person
        Items per person (random subsets: a sparse log); None for a dense log.
    impact
        Mean ability difference, reference minus focal.
    alpha
        Level of the tests.
    purify
        Purify the matching items (MH) and the anchors (IRT).
    seed
        Base seed.
    correction
        The flags' multiplicity correction (``"bh"``: Benjamini–Hochberg over the
        items, also applied to the Wald p-values; ``"none"``: the nominal tests).

    Returns
    -------
    pandas.DataFrame
        One row per test (``"MH"``, ``"IRT-LR"``, ``"IRT-Wald"``): ``power`` (share of
        DIF items flagged), ``false_positive_rate`` (share of clean items flagged),
        ``ets_bc_rate`` for MH (share of DIF items classed B or C), ``n_replications``
        and ``seconds`` (mean time of one analysis).
    """
    if dif_items >= n_items:
        raise DataError("dif_items must be smaller than n_items", field="dif_items")
    per = n_items if answers_per_person is None else answers_per_person
    flags: dict[str, list[npt.NDArray[np.bool_]]] = {"MH": [], "IRT-LR": [], "IRT-Wald": []}
    ets_bc: list[npt.NDArray[np.bool_]] = []
    seconds: dict[str, float] = {"MH": 0.0, "IRT-LR": 0.0, "IRT-Wald": 0.0}
    seeds = np.random.SeedSequence(seed).generate_state(n_replications)
    for rep in range(n_replications):  # a loop over replications
        rng = np.random.default_rng(int(seeds[rep]))
        a = np.exp(rng.normal(0.0, 0.25, n_items))
        b = rng.normal(0.0, 1.0, n_items)
        bank = ItemBank.from_frame(pd.DataFrame({"item_id": np.arange(n_items), "a": a, "b": b}))
        shift = np.zeros(n_items)
        shift[:dif_items] = dif_size
        focal_bank = bank.with_parameters(b=b + shift)
        log, groups = _two_group_log(
            bank, focal_bank, n_reference, n_focal, per, impact, int(seeds[rep])
        )
        t0 = time.perf_counter()
        mh = mantel_haenszel_dif(
            log, bank, groups, focal="focal", alpha=alpha, purify=purify, correction=correction
        )
        t1 = time.perf_counter()
        irt = irt_dif(
            log, bank, groups, focal="focal", alpha=alpha, purify=purify, correction=correction
        )
        t2 = time.perf_counter()
        order = pd.Index(log.item_ids).get_indexer(bank.item_ids)
        flags["MH"].append(mh["flagged"].to_numpy()[order])
        ets_bc.append((mh["ets_class"].to_numpy() != "A")[order])
        flags["IRT-LR"].append(irt["flagged"].to_numpy()[order])
        wald_p = adjusted(irt["wald_p"].to_numpy(dtype=np.float64), correction)
        flags["IRT-Wald"].append((np.nan_to_num(wald_p, nan=1.0) < alpha)[order])
        seconds["MH"] += t1 - t0
        seconds["IRT-LR"] += t2 - t1
        seconds["IRT-Wald"] += t2 - t1
    rows = []
    for name, f in flags.items():
        arr = np.array(f)
        rows.append(
            {
                "test": name,
                "power": float(arr[:, :dif_items].mean()) if dif_items else float("nan"),
                "false_positive_rate": float(arr[:, dif_items:].mean()),
                "ets_bc_rate": float(np.array(ets_bc)[:, :dif_items].mean())
                if name == "MH" and dif_items
                else float("nan"),
                "n_replications": n_replications,
                "seconds": seconds[name] / n_replications,
            }
        )
    return pd.DataFrame(rows).set_index("test")
