"""Every random draw of a generation run: one `numpy.random.Generator`, read through a buffer.

Determinism: the generator takes every draw from one `numpy.random.default_rng(seed)`,
in a fixed program order, either directly (`Draws.rng`, for whole arrays) or through
`Draws` (per-object floats read from a buffered block). A change that moves a draw
changes the world.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


class Draws:
    """Buffered draws from one generator: per-object code reads floats from a list, which is fast."""

    def __init__(self, rng: np.random.Generator, block: int = 1 << 16) -> None:
        self.rng, self.block = rng, block
        self._u: Iterator[float] = iter(())
        self._n: Iterator[float] = iter(())

    def u(self) -> float:
        try:
            return next(self._u)
        except StopIteration:
            self._u = iter(self.rng.random(self.block).tolist())
            return next(self._u)

    def normal(self) -> float:
        try:
            return next(self._n)
        except StopIteration:
            self._n = iter(self.rng.standard_normal(self.block).tolist())
            return next(self._n)

    def below(self, n: int) -> int:
        return min(int(self.u() * n), n - 1)

    def pick(self, seq: Sequence[T]) -> T:
        return seq[self.below(len(seq))]

    def chance(self, p: float) -> bool:
        return self.u() < p

    def poisson(self, lam: float) -> int:
        limit, k, prod = math.exp(-lam), 0, self.u()
        while prod > limit:
            k += 1
            prod *= self.u()
        return k

    def lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(sigma * self.normal())

    def hexid(self, digits: int) -> str:
        return "".join("0123456789abcdef"[self.below(16)] for _ in range(digits))
