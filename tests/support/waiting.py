"""Waiting for something another process does: poll with a deadline, never sleep a fixed time.

A fixed sleep is too short on a busy machine and too long everywhere else; polling returns as
soon as the thing has happened and fails with a message when it never does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    get: Callable[[], T],
    *,
    until: Callable[[T], object] = bool,
    timeout: float = 15,
    interval: float = 0.05,
    what: str,
) -> T:
    """Call ``get`` until ``until`` accepts its value (by default: a truthy one); return it.

    Fails with an AssertionError naming ``what`` (and the last value) after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while not until(value := get()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}; the last value: {value!r}")
        time.sleep(interval)
    return value
