"""Where the answers are, for the EM: one local design or partitions of persons.

The protocol both follow, and the local design.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from pixirt.calibration._design import Design
from pixirt.calibration._estep import EStep, e_step
from pixirt.calibration._information import Derivatives, Pass, final_pass
from pixirt.calibration._state import Layout, State

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Data(Protocol):
    """Where the answers are: one local design, or partitions of persons (Dask or local).

    The EM only needs the E-step sums and, at the estimates, one pass accumulating what
    the standard errors need: both are sums over persons, so partitions of persons add up.
    """

    @property
    def theta(self) -> FloatArray: ...

    @property
    def n_items(self) -> int: ...

    @property
    def n_quad(self) -> int: ...

    @property
    def n_persons(self) -> int: ...

    def e_step(self, s: State) -> EStep: ...

    def final_pass(
        self, s: State, layout: Layout, der: Derivatives, method: Literal["full", "items"]
    ) -> Pass: ...

    def k_hist(self) -> IntArray: ...


@dataclass(frozen=True, slots=True)
class LocalData:
    """A whole log in this process: one design, its chunks summed in order."""

    design: Design

    @property
    def theta(self) -> FloatArray:
        return self.design.theta

    @property
    def n_items(self) -> int:
        return self.design.n_items

    @property
    def n_quad(self) -> int:
        return self.design.n_quad

    @property
    def n_persons(self) -> int:
        return self.design.n_persons

    def e_step(self, s: State) -> EStep:
        return e_step(self.design, s)

    def final_pass(
        self, s: State, layout: Layout, der: Derivatives, method: Literal["full", "items"]
    ) -> Pass:
        return final_pass(self.design, s, layout, der, method)

    def k_hist(self) -> IntArray:
        return np.bincount(np.diff(self.design.indptr)).astype(np.int64)
