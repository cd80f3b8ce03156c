"""The harvest fetcher's SSRF rules, one test each, against loopback servers only.

The tests allow 127.0.0.0/8 and plain http for 127.0.0.1 explicitly, as an admin would allow an
intranet catalogue; each rule's test shows what is refused without (or beyond) that allowance.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator

import pytest

from mapsvc.services.harvest.fetcher import FetchFailed, FetchPolicy, address_allowed, fetch
from mapsvc.settings import HarvestSettings, Settings
from tests.support.file_hosts import FileHost, Reply, file_host, self_signed

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def policy(**changes: object) -> FetchPolicy:
    settings = Settings(
        harvest=HarvestSettings(
            allow_networks="127.0.0.0/8",
            allow_http_hosts="127.0.0.1,files.example",
            connect_timeout_s=2,
            read_timeout_s=2,
            total_timeout_s=5,
            contact="gis@pref.osaka.example",
        )
    )
    base = dataclasses.replace(FetchPolicy.from_settings(settings), max_bytes=10_000)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def host() -> Iterator[FileHost]:
    with file_host() as running:
        running.file("/aed.csv", "名称,緯度,経度\nA,34.46,135.37\n".encode())
        yield running


def test_an_allowed_loopback_file_is_fetched_with_its_validators(host):
    fetched = fetch(f"{host.base}/aed.csv", policy())
    assert fetched.status == 200
    assert fetched.content.startswith("名称".encode())
    assert fetched.etag and fetched.last_modified


def test_a_matching_etag_answers_304_and_no_body(host):
    first = fetch(f"{host.base}/aed.csv", policy())
    again = fetch(f"{host.base}/aed.csv", policy(), etag=first.etag)
    assert (again.status, again.content) == (304, b"")


def test_plain_http_is_refused_unless_the_host_is_allowed(host):
    with pytest.raises(FetchFailed, match="https only"):
        fetch(f"{host.base}/aed.csv", policy(http_hosts=frozenset()))
    assert host.paths() == []


def test_other_schemes_are_refused(host):
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/"):
        with pytest.raises(FetchFailed, match="https://"):
            fetch(url, policy())


def test_a_host_name_dns_could_not_take_is_refused_in_words_not_a_crash():
    for url in ("https://a..b/x.csv", f"https://{'a' * 64}.jp/x.csv"):
        with pytest.raises(FetchFailed, match="host name is invalid"):
            fetch(url, policy())


def test_a_url_with_credentials_is_refused(host):
    with pytest.raises(FetchFailed, match="user name or password"):
        fetch(f"http://user:secret@127.0.0.1:{host.port}/aed.csv", policy())
    assert host.paths() == []


def test_a_non_global_address_is_refused_unless_its_network_is_allowed(host):
    with pytest.raises(FetchFailed, match="non-public address"):
        fetch(f"{host.base}/aed.csv", policy(allowed_networks=()))
    assert host.paths() == []
    for address in ("10.0.0.1", "192.168.1.1", "169.254.169.254", "::1", "fd00::1", "0.0.0.0"):  # noqa: S104 - judged, not bound
        assert not address_allowed(address, policy(allowed_networks=())), address
    assert address_allowed("8.8.8.8", policy(allowed_networks=()))


def test_an_ipv4_mapped_ipv6_address_is_judged_as_its_ipv4():
    assert not address_allowed("::ffff:169.254.169.254", policy())
    assert not address_allowed("::ffff:127.0.0.1", policy(allowed_networks=()))
    assert address_allowed("::ffff:127.0.0.1", policy(allowed_networks=(LOOPBACK,)))


def test_the_name_is_resolved_once_and_the_connection_pinned_to_that_address(host):
    """A rebinding DNS answers a good address first and an internal one after: never asked twice."""
    answers = [["127.0.0.1"], ["10.9.9.9"]]
    asked: list[str] = []

    def rebinding(name: str, _port: int) -> list[str]:
        asked.append(name)
        return answers[len(asked) - 1]

    fetched = fetch(f"http://files.example:{host.port}/aed.csv", policy(), resolve=rebinding)
    assert fetched.status == 200
    assert asked == ["files.example"]
    # The loopback server got the request: the name was sent as Host, the address was dialled.
    assert host.requests[-1][1]["host"] == f"files.example:{host.port}"


def test_a_name_with_any_disallowed_address_is_refused(host):
    def mixed(_name: str, _port: int) -> list[str]:
        return ["127.0.0.1", "192.168.0.10"]

    with pytest.raises(FetchFailed, match=r"192\.168\.0\.10"):
        fetch(f"http://files.example:{host.port}/aed.csv", policy(), resolve=mixed)
    assert host.paths() == []


def test_every_redirect_is_checked_again(host):
    host.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
    host.redirect("/to-http-host", f"http://localhost:{host.port}/aed.csv")
    with pytest.raises(FetchFailed, match="non-public address"):
        fetch(
            f"{host.base}/to-metadata",
            policy(http_hosts=frozenset({"127.0.0.1", "169.254.169.254"})),
        )
    with pytest.raises(FetchFailed, match="https only"):
        fetch(f"{host.base}/to-http-host", policy())


def test_at_most_three_redirects_are_followed(host):
    for hop in range(4):
        host.redirect(f"/hop{hop}", f"/hop{hop + 1}" if hop < 3 else "/aed.csv")
    assert fetch(f"{host.base}/hop1", policy()).status == 200  # three redirects
    with pytest.raises(FetchFailed, match="More than 3 redirects"):
        fetch(f"{host.base}/hop0", policy())


def test_a_declared_body_over_the_limit_is_refused(host):
    host.plain("/big.csv", Reply(body=b"x" * 20_000))
    with pytest.raises(FetchFailed, match="larger than the limit"):
        fetch(f"{host.base}/big.csv", policy())


def test_an_undeclared_body_is_counted_while_it_streams(host):
    host.plain("/endless.csv", Reply(body=b"x" * 200_000, length=False))
    with pytest.raises(FetchFailed, match="larger than the limit"):
        fetch(f"{host.base}/endless.csv", policy())


def test_a_server_that_stops_answering_hits_the_read_timeout(host):
    host.plain("/stalled.csv", Reply(body=b"a,b\n", stall_s=3, length=False))
    with pytest.raises(FetchFailed, match=r"did not answer for 0\.5 s"):
        fetch(f"{host.base}/stalled.csv", policy(read_timeout_s=0.5))


def test_a_slow_drip_is_cut_at_the_total_time(host):
    """A byte every 50 ms never trips the read timeout; the total time cuts it."""
    host.plain("/drip.csv", Reply(body=b"x" * 400, drip_s=0.05))
    with pytest.raises(FetchFailed, match="did not finish within 1 s"):
        fetch(f"{host.base}/drip.csv", policy(read_timeout_s=1, total_timeout_s=1))


def test_a_closed_port_is_a_failure_not_a_crash():
    unused = FileHost()  # bound, then closed: nothing listens on its port any more
    port = unused.port
    unused.server.server_close()
    with pytest.raises(FetchFailed, match="Could not connect"):
        fetch(f"http://127.0.0.1:{port}/x.csv", policy())


def test_no_cookie_or_credential_is_sent_and_the_agent_names_a_contact(host):
    host.plain(
        "/login",
        Reply(302, headers={"Location": "/aed.csv", "Set-Cookie": "session=abc; Path=/"}),
    )
    fetch(f"{host.base}/login", policy())
    for _path, headers in host.requests:
        assert "cookie" not in headers and "authorization" not in headers
        assert "mapsvc" in headers["user-agent"]
        assert "gis@pref.osaka.example" in headers["user-agent"]


def test_a_server_error_is_a_failure_with_its_status(host):
    host.plain("/broken.csv", Reply(500, b"oops"))
    with pytest.raises(FetchFailed) as failed:
        fetch(f"{host.base}/broken.csv", policy())
    assert failed.value.status == 500
    assert "HTTP 500" in failed.value.message_ja


@pytest.fixture
def tls_host(tmp_path, monkeypatch) -> Iterator[FileHost]:
    """An https host whose certificate names files.example (and is trusted for the test)."""
    certificate, key = self_signed(tmp_path, "files.example")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
    with FileHost(tls=(certificate, key)).running() as running:
        running.file("/aed.csv", b"a,b\n1,2\n")
        yield running


def test_https_dials_the_pinned_address_and_checks_the_certificate_against_the_name(tls_host):
    def loopback(_name: str, _port: int) -> list[str]:
        return ["127.0.0.1"]

    secure = policy(http_hosts=frozenset())  # https needs no allowance
    fetched = fetch(f"https://files.example:{tls_host.port}/aed.csv", secure, resolve=loopback)
    assert fetched.content == b"a,b\n1,2\n"
    with pytest.raises(FetchFailed, match=r"CERTIFICATE_VERIFY_FAILED|doesn't match"):
        fetch(f"https://other.example:{tls_host.port}/aed.csv", secure, resolve=loopback)
