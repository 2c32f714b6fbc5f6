"""A Pix-like item bank generator: the 16 competences, their tubes, skills and challenges.

Pix's real challenge bank and its calibration are not public. :func:`pix_like_bank`
builds a bank with Pix's structure (``pix-rules.md`` §1) and plausible parameters, the
default bank of the demo, the engine's examples and the simulator:

- the 16 competences of the framework in 5 areas (``pixirt/data/framework.csv``);
- per competence, ``n_tubes`` tubes (uniform in the given range, 6–12 by default);
- per tube, a skill at each level 1–8 with probability ``level_presence`` (so not every
  level is present; a tube always has at least one skill). A skill is named like Pix's,
  ``@<tube><level>``, so its tube is the skill name minus its last character;
- per skill, 1–4 challenges (probabilities ``challenges_per_skill``);
- ``b = −4 + 1.1·level + N(0, b_noise_sd)`` (0.5), ``a = exp(N(log(a_median), a_log_sd))``
  (1.2 and 0.3), ``c = 0``;
- metadata: ``area``, ``competence``, ``tube``, ``skill``, ``level``, ``pix_value``
  (``min(4, 8 / n)`` with ``n`` the skills of that level in the competence, §1.3),
  ``type`` (QCU, QCM, QROC, QROCM-ind, QROCM-dep), ``accessible``, and the features the
  incident policy checks, ``image``, ``embed``, ``attachment``, ``timed`` and ``focus``
  (independent draws with the shares of :data:`FEATURE_SHARES`: assumptions, Pix
  publishes none).

With the defaults the bank has about 3,000 challenges. It is deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

import numpy as np
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt._validation import as_generator, check_in_range
from pixirt.exceptions import DataError

__all__ = ["CHALLENGE_TYPES", "FEATURE_SHARES", "framework", "pix_like_bank"]

#: Challenge types and their shares in the generated bank.
CHALLENGE_TYPES: dict[str, float] = {
    "QCU": 0.40,
    "QCM": 0.20,
    "QROC": 0.20,
    "QROCM-ind": 0.12,
    "QROCM-dep": 0.08,
}


#: Share of challenges with each feature in the generated bank (assumed: a third of Pix's
#: challenges show an image; embeds, attachments, timed and focus challenges are rarer).
FEATURE_SHARES: dict[str, float] = {
    "image": 0.35,
    "embed": 0.08,
    "attachment": 0.12,
    "timed": 0.08,
    "focus": 0.10,
}


def framework() -> pd.DataFrame:
    """The Pix framework: 5 areas and 16 competences (``area``, ``area_name``, ``competence``, ``competence_name``).

    Returns
    -------
    pandas.DataFrame
        One row per competence; codes are strings (``"1.1"``).
    """
    with resources.files("pixirt").joinpath("data/framework.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str)


def pix_like_bank(
    seed: int | np.random.Generator | None = 0,
    *,
    n_tubes: tuple[int, int] = (6, 12),
    level_presence: float = 0.9,
    challenges_per_skill: Sequence[float] = (0.15, 0.20, 0.30, 0.35),
    b_intercept: float = -4.0,
    b_slope: float = 1.1,
    b_noise_sd: float = 0.5,
    a_median: float = 1.2,
    a_log_sd: float = 0.3,
    accessible_share: float = 0.8,
) -> ItemBank:
    """Generate a Pix-like 2PL bank.

    Parameters
    ----------
    seed
        Seed or generator (the bank is deterministic for an int seed).
    n_tubes
        Inclusive range of the number of tubes per competence.
    level_presence
        Probability that a tube has a skill at a given level (1–8).
    challenges_per_skill
        Probabilities of 1, 2, ... challenges per skill (must sum to 1).
    b_intercept, b_slope, b_noise_sd
        ``b = b_intercept + b_slope·level + N(0, b_noise_sd)``.
    a_median, a_log_sd
        ``log a ~ N(log a_median, a_log_sd)``.
    accessible_share
        Share of challenges flagged accessible.

    Returns
    -------
    ItemBank
        A 2PL bank on the N(0, 1) scale with the metadata listed in the module doc.

    Examples
    --------
    >>> bank = pix_like_bank(seed=1)
    >>> sorted(bank.metadata["competence"].unique())[:3]
    ['1.1', '1.2', '1.3']
    """
    rng = as_generator(seed)
    lo, hi = n_tubes
    if not (1 <= lo <= hi):
        raise DataError(
            f"n_tubes must be (low, high) with 1 <= low <= high, got {n_tubes!r}", field="n_tubes"
        )
    check_in_range(level_presence, "level_presence", 0.0, 1.0, low_open=True)
    check_in_range(accessible_share, "accessible_share", 0.0, 1.0)
    check_in_range(b_noise_sd, "b_noise_sd", 0.0, np.inf)
    check_in_range(a_log_sd, "a_log_sd", 0.0, np.inf)
    check_in_range(a_median, "a_median", 0.0, np.inf, low_open=True)
    probs = np.asarray(challenges_per_skill, dtype=np.float64)
    if probs.ndim != 1 or len(probs) == 0 or np.any(probs < 0) or not np.isclose(probs.sum(), 1.0):
        raise DataError(
            "challenges_per_skill must be probabilities summing to 1", field="challenges_per_skill"
        )
    frame = framework()
    rows: list[tuple[str, str, str, str, int]] = []
    for area, code in zip(frame["area"], frame["competence"], strict=True):
        for t in range(int(rng.integers(lo, hi + 1))):
            tube = f"@c{code.replace('.', '_')}t{t + 1:02d}"
            levels = np.flatnonzero(rng.random(8) < level_presence) + 1
            if len(levels) == 0:
                levels = np.array([int(rng.integers(1, 9))])
            for lv in levels:
                n_ch = int(rng.choice(len(probs), p=probs)) + 1
                rows.extend([(area, code, tube, f"{tube}{lv}", int(lv))] * n_ch)
    df = pd.DataFrame(rows, columns=["area", "competence", "tube", "skill", "level"])
    n = len(df)
    df.insert(0, "item_id", [f"ch{i + 1:05d}" for i in range(n)])
    level = df["level"].to_numpy()
    b = b_intercept + b_slope * level + rng.normal(0.0, b_noise_sd, n)
    a = np.exp(rng.normal(np.log(a_median), a_log_sd, n))
    skills_per_level = df.drop_duplicates("skill").groupby(["competence", "level"])["skill"].count()
    n_same = skills_per_level.loc[list(zip(df["competence"], df["level"], strict=True))].to_numpy()
    df["pix_value"] = np.minimum(4.0, 8.0 / n_same)
    names = list(CHALLENGE_TYPES)
    df["type"] = np.asarray(names, dtype=object)[
        rng.choice(len(names), size=n, p=np.asarray(list(CHALLENGE_TYPES.values())))
    ]
    df["accessible"] = rng.random(n) < accessible_share
    for name, share in FEATURE_SHARES.items():
        df[name] = rng.random(n) < share
    df.insert(1, "a", a)
    df.insert(2, "b", b)
    df.insert(3, "c", 0.0)
    return ItemBank.from_frame(df, model="2PL")
