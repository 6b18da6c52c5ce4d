"""The retry policy: how a step's failure ends its run's attempt, and when the next one is due.

The runner (:mod:`ledgerlink.engine.runner`) raises :class:`Retry`, :class:`Fail`,
:class:`Skipped` or :class:`LeaseLost`; the worker (:mod:`ledgerlink.engine.worker`) stores what they say.
Backoff is exponential with jitter ("full jitter" between half and all of the delay), so
workers that failed together do not retry together.
"""

from __future__ import annotations

import random


class Retry(Exception):
    """This attempt ends; the run is tried again after ``delay`` seconds (None: backoff).
    ``count_attempt`` False for waits that are not the run's fault (a governor slot)."""

    def __init__(self, message: str, delay: float | None = None, count_attempt: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.delay = delay
        self.count_attempt = count_attempt


class Fail(Exception):
    """The run fails for good: every attempt would meet the same refusal."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Skipped(Exception):
    """The run is skipped before any step, not failed: ``skipped_as`` says why in a word
    (``echo``, or a recipe ``skip`` rule's), ``reason`` in a sentence."""

    def __init__(self, skipped_as: str, reason: str) -> None:
        super().__init__(reason)
        self.skipped_as = skipped_as
        self.message = reason


class LeaseLost(Exception):
    """The run's lease was lost; the worker that took it over finishes it."""


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds before attempt ``attempts + 1``: ``base * 2**(attempts-1)`` up to ``cap``,
    jittered between half and all of it."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return random.uniform(delay / 2, delay)


def jittered(delay: float) -> float:
    """A delay the vendor asked for (Retry-After), plus up to a tenth more, so the runs it
    held back do not all come back in the same instant."""
    return delay + random.uniform(0, 0.1 * max(delay, 0.1))
