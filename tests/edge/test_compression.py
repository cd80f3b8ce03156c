"""Which encoding the app answers with, as the client's Accept-Encoding asks."""

import pytest

from mapsvc.edge.compression import preferred_encoding


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("gzip, deflate, br, zstd", "br"),  # Chrome over HTTPS
        ("gzip, deflate", "gzip"),  # Chrome over plain HTTP
        ("br;q=0, gzip", "gzip"),  # refused by weight
        ("BR;Q=0.5", "br"),
        ("identity", ""),
        ("", ""),
        ("gzip;q=0", ""),
        ("brotli", ""),  # not a token we speak
        ("br;q=x, gzip", "gzip"),  # a malformed weight counts as a refusal
    ],
)
def test_brotli_is_preferred_then_gzip_and_q0_refuses(header: str, chosen: str) -> None:
    assert preferred_encoding(header) == chosen
