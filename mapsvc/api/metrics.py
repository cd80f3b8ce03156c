"""Prometheus metrics of one worker: request durations by route, cache hits, pool, publications.

Each app has its own registry (tests build many apps in one process). ``/metrics`` answers only
the addresses in ``MAPSVC_API__METRICS_ALLOW`` (loopback by default): the proxy of issue 11
never forwards it, and a resident's request there is a 404.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Up to 10 s: a request slower than that is an incident, not a bucket.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The registry and the instruments the middleware and the collectors feed."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.duration = Histogram(
            "mapsvc_http_request_duration_seconds",
            "Time to the response's last byte, by route",
            ["method", "route", "status"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.cache = Counter(
            "mapsvc_response_cache_requests",
            "Public GETs answered from the response cache or not",
            ["result"],
            registry=self.registry,
        )
        self.bytes = Counter(
            "mapsvc_http_response_bytes",
            "Body bytes sent, by route",
            ["route"],
            registry=self.registry,
        )

    def add_gauges(self, read: Callable[[], dict[str, GaugeValue]]) -> None:
        """Gauges read at scrape time (pool in use and waiting, publication generation…)."""
        self.registry.register(_Gauges(read))


# A gauge's value: a number, none (not shown), or numbers by replica name.
GaugeValue = float | None | dict[str, float]


class _Gauges(Collector):
    def __init__(self, read: Callable[[], dict[str, GaugeValue]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, value in self._read().items():
            title = f"mapsvc_{name}"
            if isinstance(value, dict):
                family = GaugeMetricFamily(title, name.replace("_", " "), labels=["replica"])
                for label, number in value.items():
                    family.add_metric([label], number)
                yield family
            elif value is not None:
                yield GaugeMetricFamily(title, name.replace("_", " "), value=value)


def allowed(client: str | None, networks: str) -> bool:
    """Whether ``client`` is in one of the comma-separated networks.

    Examples
    --------
    >>> allowed("127.0.0.1", "127.0.0.0/8,::1"), allowed("203.0.113.5", "127.0.0.0/8,::1")
    (True, False)
    """
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(n.strip(), strict=False)
        for n in networks.split(",")
        if n.strip()
    )


async def note_route(request: Request) -> None:
    """An app-wide dependency: tell the metrics middleware which route template answered."""
    route = request.scope.get("route")
    if route is not None:
        request.state.route_template = getattr(route, "path", None)
