"""Small helpers shared by the runtimes."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

WAIT_POLICY = "OMP_WAIT_POLICY"


def wait_passively() -> None:
    """Let llama.cpp's threads sleep, not spin, while they wait for each other.

    Both runtimes run llama.cpp's threads with OpenMP (libgomp), whose threads by default spin
    at every barrier between operations (hundreds per token). When another program keeps a
    core busy, the thread that shares it is often descheduled and its partner spins through
    whole time slices: two threads fell from ~25 to 0.6-0.9 tokens/s beside an ingest. Waiting
    passively keeps them near the speed one thread would have (benchmarks/runtime.py).
    libgomp reads the policy once, when it is loaded, so this runs before either runtime is
    imported; an ``OMP_WAIT_POLICY`` set by the user is kept.
    """
    os.environ.setdefault(WAIT_POLICY, "passive")


def normalise(logits: Sequence[float]) -> list[float]:
    """Log-softmax: log-probabilities over exactly these values (logits or log-probabilities)."""
    top = max(logits)
    total = math.log(sum(math.exp(x - top) for x in logits))
    return [x - top - total for x in logits]


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
