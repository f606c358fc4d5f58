"""One BLAS thread for the bootstrap's matrix products.

A resample multiplies small matrices (items x statistics) again and again, with numpy work in between.
OpenBLAS's worker threads keep spinning after each product, and on a machine whose cores are busy they take
the CPU from that numpy work: the Bonn tracking bootstrap ran 2-5x slower with them than on one thread.
:func:`one_blas_thread` runs a function with BLAS limited to one thread (threadpoolctl) and restores the
limit after; the products are small enough that more threads would not pay anyway.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def one_blas_thread(fn: F) -> F:
    @functools.wraps(fn)
    def run(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return run  # type: ignore[return-value]
