"""Real response datasets shipped with the package (see ``pixirt/data/SOURCE.md``)."""

from __future__ import annotations

from importlib import resources

from pixirt._response_log import ResponseLog
from pixirt._response_reading import read_responses

__all__ = ["pisa2012_us_math"]


def pisa2012_us_math() -> ResponseLog:
    """PISA 2012 USA mathematics cognitive items, rotated-booklet design.

    4,952 persons × 76 items, 117,371 answers (density 0.31): a real sparse log.
    Source: ``tmsalab/edmdata`` (MIT), OECD PISA 2012 public-use data (attribution to
    the OECD). See ``pixirt/data/SOURCE.md``.

    Returns
    -------
    ResponseLog
        The answers (string person and item ids).

    Examples
    --------
    >>> pisa2012_us_math()
    ResponseLog(4,952 persons × 76 items, 117,371 answers)
    """
    ref = resources.files("pixirt").joinpath("data/pisa2012_us_math_long.csv.gz")
    with resources.as_file(ref) as path:
        return read_responses(path)
