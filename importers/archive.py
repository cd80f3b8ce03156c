"""Open uploaded zip files defensively: the checks GDAL and this Python's zipfile do not make."""

from __future__ import annotations

import contextlib
import io
import stat
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import IO

from importers.base import ImportRejected
from importers.options import Limits

# Files that can make GDAL open other files (local or remote) or that never belong in a data zip.
_REFUSED_SUFFIXES = {".vrt", ".ovr", ".aux", ".lnk", ".url", ".exe", ".bat", ".sh", ".js"}


def _display_name(info: zipfile.ZipInfo) -> str:
    # Windows zips name members in CP932 without the UTF-8 flag; zipfile then reads them as CP437.
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("cp932")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


class SafeZip:
    """A zip whose members were all checked before any is read.

    Refused: more members than allowed, a member path with ``..`` or an absolute path, symbolic
    links, encrypted members, files that redirect GDAL (``.vrt``), members whose declared size or
    compression ratio looks like a bomb, overlapping members. Reads are capped at the declared
    size, so a lying header cannot inflate past it.
    """

    def __init__(self, data: bytes, limits: Limits) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, ValueError) as exc:
            raise ImportRejected.because(
                "bad_zip", "ZIPファイルが壊れています", "The zip file is damaged"
            ) from exc
        if len(infos) > limits.max_archive_members:
            raise ImportRejected.because(
                "zip_too_many_members",
                f"ZIPの中のファイルが多すぎます（上限 {limits.max_archive_members}）",
                f"Too many files in the zip (at most {limits.max_archive_members})",
            )
        total = 0
        offsets: set[int] = set()
        self._members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = _display_name(info)
            path = PurePosixPath(name.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
                raise ImportRejected.because(
                    "zip_unsafe_path",
                    "ZIPに危険なパスのファイルがあります",
                    "The zip holds a file with an unsafe path",
                    value=name,
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ImportRejected.because(
                    "zip_symlink",
                    "ZIPにシンボリックリンクがあります",
                    "The zip holds a symbolic link",
                    value=name,
                )
            if info.flag_bits & 0x1:
                raise ImportRejected.because(
                    "zip_encrypted",
                    "パスワード付きZIPは読めません",
                    "Password-protected zips cannot be read",
                    value=name,
                )
            if path.suffix.lower() in _REFUSED_SUFFIXES:
                raise ImportRejected.because(
                    "zip_refused_member",
                    f"ZIPに受け付けられない種類のファイル（{path.suffix}）があります",
                    f"The zip holds a file type that is not accepted ({path.suffix})",
                    value=name,
                )
            if info.header_offset in offsets:  # overlapping entries: the classic quine bomb
                raise ImportRejected.because(
                    "zip_bomb", "ZIPの構造が不正です", "The zip's structure is invalid"
                )
            offsets.add(info.header_offset)
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if total > limits.max_unpacked_bytes or (
                info.file_size > 1 << 20 and ratio > limits.max_member_ratio
            ):
                raise ImportRejected.because(
                    "zip_bomb",
                    "展開後のサイズが大きすぎます（ZIP爆弾の疑い）",
                    "The zip expands to too much data (a zip bomb?)",
                    value=name,
                )
            if not info.is_dir():
                self._members[str(path)] = info

    def names(self) -> list[str]:
        """Member paths (directories left out), in archive order."""
        return list(self._members)

    @contextlib.contextmanager
    def _opened(self, name: str) -> Iterator[IO[bytes]]:
        """A member opened for reading; damage found while inflating it rejects the file."""
        try:
            with self._zip.open(self._members[name]) as member:
                yield member
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
            raise ImportRejected.because(
                "bad_zip", "ZIPファイルが壊れています", "The zip file is damaged", value=name
            ) from exc

    def _chunks(self, name: str, size: int = 1 << 20) -> Iterator[bytes]:
        """A member's bytes a chunk at a time, never more than its declared size."""
        declared = self._members[name].file_size
        read = 0
        with self._opened(name) as member:
            while chunk := member.read(size):
                read += len(chunk)
                if read > declared:  # a lying header: stop before inflating past it
                    raise ImportRejected.because(
                        "zip_bomb",
                        "ZIPの中身が申告サイズを超えています",
                        "A zip member is larger than it declares",
                        value=name,
                    )
                yield chunk

    def read(self, name: str) -> bytes:
        """A member's bytes, never more than its declared size."""
        return b"".join(self._chunks(name))

    def count(self, name: str, needles: tuple[bytes, ...]) -> int:
        """How often the needles occur in a member, read a megabyte at a time (never whole)."""
        longest = max(map(len, needles)) - 1
        found, tail = 0, b""
        for chunk in self._chunks(name):
            # The tail carries a needle that straddles two chunks; what lies wholly inside it
            # was counted with the previous chunk.
            window = tail + chunk
            found += sum(window.count(n) - tail.count(n) for n in needles)
            tail = window[-longest:] if longest else b""
        return found

    def find(self, suffix: str) -> list[str]:
        """Members whose names end with ``suffix`` (case-insensitive), skipping macOS litter."""
        return [
            n
            for n in self._members
            if n.lower().endswith(suffix)
            and "__MACOSX" not in n
            and not PurePosixPath(n).name.startswith("._")
        ]
