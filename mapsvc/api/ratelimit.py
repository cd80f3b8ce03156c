"""A per-client token bucket for the heavy endpoints (downloads): one process's fair share.

Behind several workers or hosts the proxy's limit is the real one; this keeps a single client
from monopolising one worker when there is no proxy.
"""

from __future__ import annotations

import threading
import time

from fastapi import Request

from mapsvc.errors import TooManyRequests


class RateLimiter:
    """``per_minute`` requests per client address, refilled continuously."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def check(self, request: Request) -> None:
        """Take a token for this client, or raise TooManyRequests."""
        client = request.client.host if request.client else "unknown"
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1:
                raise TooManyRequests(int((1 - tokens) / self.rate) + 1)
            self.buckets[client] = (tokens - 1, now)
            if len(self.buckets) > 10_000:  # forget idle clients
                self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < 60}


def download_limit(request: Request) -> None:
    """Dependency: the downloads' rate limit."""
    limiter: RateLimiter = request.app.state.download_limiter
    limiter.check(request)
