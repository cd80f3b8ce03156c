"""The fixes a clerk has queued for one version, applied together as one new version.

Kept in a cookie scoped to the version's pages (``…/versions/{id}``): it follows the clerk from
row to row on any worker, needs no table, and is gone once applied. The cookie is only a list of
wishes: every fix is checked again when it is applied, and who made it is the signed-in person
then. A cookie that cannot be read is an empty list (nobody typed it).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request, Response

from importers.edits import RowEdit
from mapsvc.errors import InvalidParameter
from mapsvc.staff.pages import secure_cookies

COOKIE = "mapsvc_fixes"
MAX_COOKIE_BYTES = 3800  # browsers keep about 4 KB per cookie, name and attributes included


@dataclass(frozen=True)
class QueuedFix:
    """One row's fix; ``swap``: its position is the row's own pair read the other way round."""

    edit: RowEdit
    swap: bool = False


@dataclass(frozen=True)
class FixQueue:
    """The queued fixes, in the order they were added, and whether to place rows by their town."""

    fixes: tuple[QueuedFix, ...] = ()
    town_positions: bool = False

    def __len__(self) -> int:
        return len(self.fixes) + int(self.town_positions)

    def adding(self, fixes: list[QueuedFix], *, town_positions: bool = False) -> FixQueue:
        """The list with ``fixes`` added (a row's new fix of the same kind replaces its old one)."""
        replaced = {n.edit.key for n in fixes}
        kept = [f for f in self.fixes if f.edit.key not in replaced]
        return FixQueue((*kept, *fixes), self.town_positions or town_positions)

    def removing(self, index: int) -> FixQueue:
        """The list without its ``index``-th fix (``len(fixes)``: the town placement)."""
        if index == len(self.fixes):
            return FixQueue(self.fixes, False)
        return FixQueue(
            tuple(f for i, f in enumerate(self.fixes) if i != index), self.town_positions
        )


def read_queue(request: Request) -> FixQueue:
    """The queue the request's cookie holds (empty when it has none, or one that cannot be read)."""
    try:
        data: Any = orjson.loads(base64.urlsafe_b64decode(request.cookies.get(COOKIE, "")))
        return FixQueue(
            tuple(
                QueuedFix(RowEdit.from_dict(f), swap=f.get("swap") is True) for f in data["fixes"]
            ),
            data["town_positions"] is True,
        )
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, binascii.Error):
        return FixQueue()


def keep_queue(request: Request, response: Response, queue: FixQueue, version_page: str) -> None:
    """Store ``queue`` with the response, for the pages under ``version_page`` only."""
    if not len(queue):
        response.delete_cookie(COOKIE, path=version_page)
        return
    fixes = [f.edit.as_dict(author=False) | ({"swap": True} if f.swap else {}) for f in queue.fixes]
    value = base64.urlsafe_b64encode(
        orjson.dumps({"fixes": fixes, "town_positions": queue.town_positions})
    ).decode()
    if len(value) > MAX_COOKIE_BYTES:
        raise InvalidParameter(
            "直す内容の一覧がいっぱいです。先に「まとめて直す」で反映してから続けてください",
            "The list of fixes is full: apply them first, then go on",
        )
    response.set_cookie(
        COOKIE,
        value,
        httponly=True,
        samesite="strict",
        path=version_page,
        secure=secure_cookies(request),
    )
