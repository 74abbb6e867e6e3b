"""Small helpers shared by the runtimes."""

from __future__ import annotations

import math
from collections.abc import Sequence


def normalise(logits: Sequence[float]) -> list[float]:
    """Log-softmax: log-probabilities over exactly these values (logits or log-probabilities)."""
    top = max(logits)
    total = math.log(sum(math.exp(x - top) for x in logits))
    return [x - top - total for x in logits]


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
