"""Fetch a municipality's published file without letting its URL turn the service on its own network.

"Fetch this URL for me" is the classic server-side request forgery hole (GeoServer's and
GeoNode's remote-service CVEs). Every rule below has its own test in
``tests/services/test_harvest_fetcher.py``:

- https only; plain http only for the hosts an admin listed (``MAPSVC_HARVEST__ALLOW_HTTP_HOSTS``);
  no user name or password in the URL;
- the host name is resolved once, every address it resolves to must be global (or inside a
  network the admin listed in ``MAPSVC_HARVEST__ALLOW_NETWORKS``), and the connection goes to
  that very address (a DNS answer that changes between the check and the connect cannot
  redirect it);
- every redirect is checked by the same rules, at most ``MAX_REDIRECTS`` of them;
- the body is counted while it streams and cut at the upload limit;
- connect, read (per socket operation) and total time limits: a server that drips a byte a
  second is cut at the total;
- no credentials or cookies are ever sent (the request carries only the headers built here);
- the bytes go to the upload use case: GDAL is never given a URL, so ``/vsicurl`` never runs;
- the User-Agent names the service and the operator's contact.

The standard library's ``http.client`` is used on purpose: its connection can be pinned to an
address while TLS still checks the certificate against the host name.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from mapsvc.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


class FetchFailed(Exception):
    """Why a fetch gave no file, in plain Japanese and English; ``status`` the HTTP status if any."""

    def __init__(self, message_ja: str, message_en: str, *, status: int | None = None) -> None:
        super().__init__(message_en)
        self.message_ja = message_ja
        self.message_en = message_en
        self.status = status


@dataclass(frozen=True, kw_only=True)
class FetchPolicy:
    """What a fetch may reach and how long and how much it may take."""

    allowed_networks: tuple[Network, ...] = ()
    http_hosts: frozenset[str] = frozenset()
    max_bytes: int
    connect_timeout_s: float
    read_timeout_s: float
    total_timeout_s: float
    user_agent: str

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        """The policy the settings describe (the upload size limit is the body limit)."""
        harvest = settings.harvest
        return cls(
            allowed_networks=tuple(
                ipaddress.ip_network(n.strip(), strict=False)
                for n in harvest.allow_networks.split(",")
                if n.strip()
            ),
            http_hosts=frozenset(
                h.strip().lower() for h in harvest.allow_http_hosts.split(",") if h.strip()
            ),
            max_bytes=settings.imports.max_upload_bytes,
            connect_timeout_s=harvest.connect_timeout_s,
            read_timeout_s=harvest.read_timeout_s,
            total_timeout_s=harvest.total_timeout_s,
            user_agent=f"mapsvc-harvester/1 (open-data map of municipalities; +{harvest.contact})",
        )


@dataclass(frozen=True)
class Fetched:
    """A fetch's answer: 200 with the body, or 304 (nothing changed) with none."""

    url: str  # after redirects
    status: int
    content: bytes
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for ``host``."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def fetch(
    url: str,
    policy: FetchPolicy,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = "*/*",
    resolve: Resolver = system_resolver,
) -> Fetched:
    """GET ``url`` under ``policy``, conditionally when validators are given.

    Raises
    ------
    FetchFailed
        When a rule refuses the URL or an address, or the server fails, is too slow or too big.
    """
    deadline = time.monotonic() + policy.total_timeout_s
    headers = {
        "User-Agent": policy.user_agent,
        "Accept": accept,
        "Accept-Encoding": "identity",
        "Connection": "close",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        target = checked_url(current, policy)
        address = _pinned_address(target, policy, resolve)
        status, found, body = _exchange(target, address, policy, deadline, headers)
        if status in REDIRECTS:
            location = found.get("location")
            if not location:
                raise FetchFailed(
                    f"転送（HTTP {status}）に転送先がありません",
                    f"A redirect (HTTP {status}) named no location",
                    status=status,
                )
            current = urljoin(current, location)
            continue
        if status in (200, 304):
            return Fetched(current, status, body, found.get("etag"), found.get("last-modified"))
        raise FetchFailed(
            f"公開元のサーバーがエラー（HTTP {status}）を返しました",
            f"The publishing server answered HTTP {status}",
            status=status,
        )
    raise FetchFailed(
        f"転送が{MAX_REDIRECTS}回を超えました", f"More than {MAX_REDIRECTS} redirects"
    )


def checked_url(url: str, policy: FetchPolicy) -> _Target:
    """The URL's parts once its scheme, host and form pass the rules (else FetchFailed)."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if parts.username is not None or parts.password is not None:
        raise FetchFailed(
            "URLに利用者名やパスワードを含めることはできません",
            "A URL may not carry a user name or password",
        )
    if scheme not in ("https", "http") or not host:
        raise FetchFailed(
            f"https:// で始まるURLを指定してください: {url}", f"Give an https:// URL, not {url!r}"
        )
    try:  # 市役所.jp → its ASCII (IDNA) form: what DNS and the Host header take
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise FetchFailed(
            f"URLのホスト名が正しくありません: {url}", f"The URL's host name is invalid: {url!r}"
        ) from None
    if scheme == "http" and host not in policy.http_hosts:
        raise FetchFailed(
            f"{host} は https でしか取得できません（http は管理者が許可したホストだけです）",
            f"{host} may be fetched over https only (http only for hosts an admin allowed)",
        )
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise FetchFailed(
            "URLのポート番号が正しくありません", "The URL's port is invalid"
        ) from None
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_PATH_SAFE + "?")
    return _Target(scheme, host, port, path)


def _pinned_address(target: _Target, policy: FetchPolicy, resolve: Resolver) -> str:
    # Resolved once: the address checked is the address connected to.
    try:
        addresses = [str(ipaddress.ip_address(target.host.strip("[]")))]
    except ValueError:
        try:
            addresses = resolve(target.host, target.port)
        except OSError:
            addresses = []
    if not addresses:
        raise FetchFailed(
            f"{target.host} の住所（DNS）が見つかりません", f"{target.host} does not resolve"
        )
    for address in addresses:
        if not address_allowed(address, policy):
            raise FetchFailed(
                f"{target.host} は内部のアドレス（{address}）を指しているため取得しません",
                f"{target.host} points at a non-public address ({address}): not fetched",
            )
    return addresses[0]


def address_allowed(address: str, policy: FetchPolicy) -> bool:
    """Global, or inside a network the admin allowed (IPv4-mapped IPv6 judged as its IPv4)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in policy.allowed_networks):
        return True
    return ip.is_global and not ip.is_multicast


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to a fixed address; TLS still verifies the host name."""

    def __init__(self, target: _Target, address: str, policy: FetchPolicy, remaining: float):
        super().__init__(target.host, target.port, timeout=policy.read_timeout_s)
        self._address = address
        self._tls = target.scheme == "https"
        self._connect_timeout = min(policy.connect_timeout_s, remaining)
        self.was_cut = False
        # Kept here: http.client drops ``self.sock`` once the response owns the connection.
        self._socket: socket.socket | None = None

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self._connect_timeout)
        sock.settimeout(self.timeout)
        if self._tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self.sock = self._socket = sock

    def cut(self) -> None:
        """End the exchange now, whatever it is waiting for (the total time is up)."""
        self.was_cut = True
        sock = self._socket
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


def _exchange(
    target: _Target, address: str, policy: FetchPolicy, deadline: float, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _too_slow(policy)
    connection = _PinnedConnection(target, address, policy, remaining)
    # Per-operation timeouts cannot stop a drip that sends a byte just in time, again and
    # again: this cuts the socket when the whole fetch's time is up.
    watchdog = threading.Timer(remaining, connection.cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("GET", target.path, headers=headers)
        response = connection.getresponse()
        found = {name.lower(): value for name, value in response.getheaders()}
        body = _body(response, found, policy) if response.status == 200 else b""
        if connection.was_cut:
            raise _too_slow(policy)
        return response.status, found, body
    except (OSError, http.client.HTTPException) as error:
        if connection.was_cut:
            raise _too_slow(policy) from None
        if isinstance(error, TimeoutError):
            raise FetchFailed(
                f"公開元のサーバーが{policy.read_timeout_s:g}秒以上応答しません",
                f"The publishing server did not answer for {policy.read_timeout_s:g} s",
            ) from None
        raise FetchFailed(
            f"公開元のサーバーに接続できません（{error}）",
            f"Could not connect to the publishing server ({error})",
        ) from None
    finally:
        watchdog.cancel()
        connection.close()


def _body(response: http.client.HTTPResponse, found: dict[str, str], policy: FetchPolicy) -> bytes:
    declared = found.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise _too_big(policy)
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(CHUNK):
        size += len(chunk)
        if size > policy.max_bytes:
            raise _too_big(policy)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(policy: FetchPolicy) -> FetchFailed:
    megabytes = policy.max_bytes / 1024 / 1024
    return FetchFailed(
        f"ファイルが上限（{megabytes:.1f} MB）を超えています",
        f"The file is larger than the limit ({megabytes:.1f} MB)",
    )


def _too_slow(policy: FetchPolicy) -> FetchFailed:
    return FetchFailed(
        f"取得が{policy.total_timeout_s:g}秒以内に終わりませんでした",
        f"The fetch did not finish within {policy.total_timeout_s:g} s",
    )
