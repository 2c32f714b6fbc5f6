"""Renamed keyword arguments: the old name keeps working for one release, with a warning.

>>> @renamed(n_boot="n_bootstrap")
... def fit(*, n_bootstrap: int = 100) -> int:
...     return n_bootstrap
>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     fit(n_boot=7)
7
>>> str(caught[0].message)
"fit(): the argument 'n_boot' is renamed 'n_bootstrap'; 'n_boot' will be removed in the next release"
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

__all__ = ["renamed"]

F = TypeVar("F", bound=Callable[..., Any])


def renamed(**old_to_new: str) -> Callable[[F], F]:
    """Decorate a function whose keyword arguments ``old`` were renamed ``new``.

    A call with an old name warns (``DeprecationWarning`` naming the new one) and passes
    the value under the new name; giving both is a ``TypeError``.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(
                            f"{func.__qualname__}() got both {old!r} (its old name) and {new!r}"
                        )
                    warnings.warn(
                        f"{func.__qualname__}(): the argument {old!r} is renamed {new!r}; "
                        f"{old!r} will be removed in the next release",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return cast(F, wrapper)

    return decorate
