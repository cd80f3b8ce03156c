"""Downloads read slowly, or cut off at the database, on a real server: reads never starve.

A slow reader is a socket with a 2 KB receive buffer that stops reading; the server's buffers
fill, its sends wait, and the send timeout must cut the transfer.
"""

import json
import socket
import time

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support.server import live_server, server_end, slow_reader
from tests.support.waiting import wait_for

pytestmark = pytest.mark.db

BIG = "/api/collections/evacuation_sites/download.geojson"  # ~2.8 MB uncompressed


def read_to_end(s: socket.socket, timeout: float = 30) -> bytes:
    s.settimeout(timeout)
    data = b""
    while chunk := s.recv(1 << 20):
        data += chunk
    s.close()
    return data


def complete_chunked(response: bytes) -> bool:
    """Whether a chunked HTTP/1.1 response got its terminating zero-length chunk."""
    return response.endswith(b"\r\n0\r\n\r\n")


def backed_up(reader: socket.socket) -> bool:
    """Whether the server is sending to ``reader`` and its bytes pile up unread."""
    end = server_end(reader)
    return end is not None and end.established and end.unsent_bytes > 0


@pytest.fixture(scope="module")
def server(test_settings, demo):
    url = test_settings.database.url.get_secret_value()
    with live_server(
        url,
        MAPSVC_API__CONCURRENT_DOWNLOADS="2",
        MAPSVC_API__DOWNLOAD_SEND_TIMEOUT_S="1.5",
        MAPSVC_API__DOWNLOADS_PER_MINUTE="1000",
        # Five downloads at once, two of them streaming: a stream being sent holds no read slot
        # (three wait for the download pool), so a resident's read still finds the fourth.
        MAPSVC_API__MAX_IN_FLIGHT="4",
    ) as base:
        yield base


def test_slow_readers_do_not_starve_reads_and_are_cut(server):
    readers = [slow_reader(server, BIG) for _ in range(5)]
    wait_for(  # the pool's two streams have filled every buffer on the way to their readers
        lambda: sum(backed_up(reader) for reader in readers) == 2, what="two stalled downloads"
    )
    with httpx.Client(base_url=server, timeout=3) as http:
        for _ in range(10):  # reads answer at once, whatever the downloads are doing
            assert http.get("/healthz").status_code == 200
            assert http.get("/api/collections/schools/items?limit=5").status_code == 200
    # The behaviour under test, not a wait for something to finish: the readers take nothing
    # for longer than every send timeout (1.5 s each, the last ones after waiting for the pool).
    # A cut is invisible from outside until the client reads, and reading would end the test.
    time.sleep(7)
    bodies = [read_to_end(s) for s in readers]
    # Cut by the send timeout (or refused as busy while the download pool was full): none
    # pretends to be the whole layer.
    for body in bodies:
        status = int(body.split()[1])
        assert (status == 200 and not complete_chunked(body)) or status == 503, body[:300]
    assert any(int(body.split()[1]) == 200 for body in bodies)
    whole = httpx.get(f"{server}{BIG}", timeout=30)  # the pool is free again
    assert whole.status_code == 200 and len(json.loads(whole.content)["features"]) > 5000


def test_a_stream_cut_at_the_database_is_a_broken_transfer(server, test_settings):
    """The features table is locked, so the stream's query waits after the response has begun;
    its backend is then terminated: the client must see a broken transfer, not a whole one."""
    admin_engine = create_engine(test_settings.database.url.get_secret_value())
    with admin_engine.connect() as admin:
        lock = admin.begin()
        admin.execute(text("LOCK TABLE feature IN ACCESS EXCLUSIVE MODE"))
        reader = slow_reader(server, BIG)
        try:
            killed = wait_for(  # once the stream's cursor waits on the lock
                lambda: admin.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND wait_event_type = 'Lock'"
                    )
                ).scalar_one(),
                timeout=10,
                interval=0.1,
                what="the stream to wait on the lock",
            )
            lock.rollback()
            assert killed == 1
            data = read_to_end(reader)
        finally:
            reader.close()
    admin_engine.dispose()
    assert data.startswith(b"HTTP/1.1 200") and b'"features":[' in data
    assert not complete_chunked(data)
