"""The disaster board: a municipality's shelters and evacuation sites, opened and closed by tap.

Phone-first, for a duty officer with the ``status`` right. Every change is one small form post
carrying a change_id made for it (a retry makes no second event) and the ETag of the state it
was made against (someone else's change meanwhile: 412, and the row shows the state now). The
page works without JavaScript; ``static/board.js`` adds the queue that keeps a change made
offline and sends it when the connection is back. Statuses are events (``shelter_status``): a
mistaken change is put right by the next one, never by editing history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from layers import Catalog
from mapsvc.api.deps import CatalogDep, SessionDep, SettingsDep
from mapsvc.errors import InvalidParameter, NotFound
from mapsvc.services import municipalities, shelter_status
from mapsvc.services.session import Session
from mapsvc.services.shelter_status import BoardSite, check_mode
from mapsvc.services.staff_sessions import StaffPrincipal
from mapsvc.settings import Settings
from mapsvc.staff.access import StaffDep, StaffMunicipality
from mapsvc.staff.disaster import (
    DESIGNATIONS,
    ModeDep,
    SiteDep,
    SiteQuery,
    district_name,
    etag_of,
    hazard_choices,
    hazard_label,
    municipality_name,
    towns_of,
)
from mapsvc.staff.pages import environment, language, page_context, render
from mapsvc.staff.text import translate

router = APIRouter(prefix="/staff", include_in_schema=False)

StatusCode = Annotated[str, StaffMunicipality("status")]
MAX_COUNT = 1_000_000  # more people than any shelter holds: a typing slip


def wants_json(request: Request) -> bool:
    """The board's script asks for JSON; a plain form post gets the page again."""
    return "application/json" in request.headers.get("accept", "")


def _count(text: str, what_ja: str, what_en: str) -> int | None:
    """A count typed on a phone (full-width digits too); empty: none given."""
    cleaned = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not cleaned:
        return None
    if not (cleaned.isascii() and cleaned.isdigit()) or int(cleaned) > MAX_COUNT:
        raise InvalidParameter(
            f"{what_ja}は0以上の整数で入れてください：{text}",
            f"{what_en} must be a whole number, 0 or more: {text}",
        )
    return int(cleaned)


def change_fields(
    status: str, accepting: str, set_: str, evacuees: str, capacity: str
) -> dict[str, Any]:
    """What one tap changes: the button pressed names it (one field per change)."""
    if status:
        return {"status": status}
    if accepting in ("true", "false"):
        return {"accepting": accepting == "true"}
    if set_ == "evacuees":
        return {"evacuees": _count(evacuees, "避難者数", "The number of evacuees")}
    if set_ == "capacity":
        return {"capacity": _count(capacity, "定員", "The capacity")}
    raise InvalidParameter("変更する内容がありません", "Nothing to change was sent")


def _change_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidParameter(
            "変更の識別子（change_id）が正しくありません", f"Not a valid change_id: {text!r}"
        ) from None


@dataclass(frozen=True)
class Board:
    """What every board route works with: the data, and the officer signed in.

    The municipality is not in it: each route takes it as ``StatusCode``, so that the check of
    the officer's right there stands in the route's own signature (``tests/staff/test_access``).
    """

    session: Session
    settings: Settings
    catalog: Catalog
    principal: StaffPrincipal

    def sites(self, code: str, mode: str) -> list[BoardSite]:
        """Every published site of the municipality, with its district and its status in ``mode``."""
        name_ja = municipalities.get_municipality(self.session, code).name_ja
        towns = towns_of(self.settings, name_ja)
        return shelter_status.board_sites(self.session, self.catalog, code, mode=mode, towns=towns)

    def site(self, code: str, asked: SiteQuery) -> BoardSite:
        """The one published site asked for (404 for one the municipality does not publish)."""
        every = self.sites(code, asked.mode)
        found = next((s for s in every if (s.layer, s.key) == (asked.layer, asked.key)), None)
        if found is None:
            raise NotFound(
                f"この避難所・避難場所は公開されていません：{asked.layer} {asked.key}",
                f"No such published site: {asked.layer} {asked.key}",
            )
        return found


def board_of(
    session: SessionDep, settings: SettingsDep, catalog: CatalogDep, principal: StaffDep
) -> Board:
    """The board's data and officer, as the route's dependencies give them."""
    return Board(session, settings, catalog, principal)


BoardDep = Annotated[Board, Depends(board_of)]


def _chosen(sites: list[BoardSite], hazard: str, districts: list[str]) -> list[BoardSite]:
    """The sites designated for ``hazard`` in one of ``districts`` (either empty: any)."""
    return [
        s
        for s in sites
        if (not hazard or hazard in s.hazards) and (not districts or district_name(s) in districts)
    ]


def _board_words(catalog: Catalog, mode: str) -> dict[str, Any]:
    """What a site's row needs besides the site: the words for layers, statuses and crowding."""
    return {
        "titles": {layer: catalog[layer].title for layer in shelter_status.STATUS_LAYERS},
        "statuses": shelter_status.STATUS_LABELS,
        "crowdings": shelter_status.CROWDING_LABELS,
        "modes": shelter_status.MODE_LABELS,
        "etag_of": lambda site: etag_of(site, mode),
    }


def _row(request: Request, board: Board, code: str, mode: str, site: BoardSite) -> dict[str, str]:
    """The site's ETag and row as on the page (a fresh change_id for a post without the script)."""
    words = page_context(request, board.principal) | _board_words(board.catalog, mode)
    macros = environment.get_template("board_macros.html").make_module(words)
    csrf = board.principal.csrf
    row = str(macros.site_row(site, code, mode, csrf, str(uuid.uuid4())))  # type: ignore[attr-defined]
    return {"etag": etag_of(site, mode), "row": row}


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/board/{municipality}", response_class=HTMLResponse)
def board_page(
    request: Request,
    board: BoardDep,
    code: StatusCode,
    mode: ModeDep,
    hazard: str = "",
    district: Annotated[list[str] | None, Query(max_length=200)] = None,
    done: int | None = None,
) -> Response:
    """The board: every published site of the municipality, filtered by hazard and district."""
    lang = language(request)
    if hazard:
        hazard_label(board.catalog, hazard, lang)  # one of the hazards (else 400)
    every = board.sites(code, mode)
    chosen = sorted(set(district or []))
    sites = _chosen(every, hazard, chosen)
    return render(
        request,
        "board.html",
        principal=board.principal,
        code=code,
        mode=mode,
        municipality_name=municipality_name(request, board.session, code),
        hazards=hazard_choices(board.catalog),
        hazard=hazard,
        districts=sorted({district_name(s) for s in every} - {""}),
        chosen_districts=chosen,
        sites=sites,
        change_ids=[str(uuid.uuid4()) for _ in sites],
        may_publish=board.principal.may("publish", code),
        notice=translate("opened_many", lang, n=done) if done is not None else "",
        **_board_words(board.catalog, mode),
    )


@router.post("/board/{municipality}/change")
def change(
    request: Request,
    board: BoardDep,
    code: StatusCode,
    layer: Annotated[str, Form(max_length=64)],
    key: Annotated[str, Form(max_length=200)],
    change_id: Annotated[str, Form(max_length=64)],
    mode: Annotated[str, Form(max_length=8)] = "real",
    if_match: Annotated[str, Form(max_length=300)] = "",
    status: Annotated[str, Form(max_length=16)] = "",
    accepting: Annotated[str, Form(max_length=8)] = "",
    set_: Annotated[str, Form(alias="set", max_length=16)] = "",
    evacuees: Annotated[str, Form(max_length=16)] = "",
    capacity: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """One change to one site (412 when it changed since the page showed it)."""
    check_mode(mode)
    shelter_status.change(
        board.session,
        board.catalog,
        board.principal.actor,
        layer,
        code,
        key,
        change_fields(status, accepting, set_, evacuees, capacity),
        mode=mode,
        if_match=if_match or None,
        change_id=_change_id(change_id),
    )
    if not wants_json(request):
        return RedirectResponse(
            f"/staff/board/{code}?mode={mode}#site-{layer}-{quote(key)}", status_code=303
        )
    site = board.site(code, SiteQuery(layer, key, mode))
    return _json(_row(request, board, code, mode, site))


@router.get("/board/{municipality}/row")
def row(
    request: Request,
    board: BoardDep,
    code: StatusCode,
    asked: SiteDep,
) -> Response:
    """One site's row as it is now (the board's script shows it after a 412)."""
    return _json(_row(request, board, code, asked.mode, board.site(code, asked)))


@router.get("/board/{municipality}/timeline", response_class=HTMLResponse)
def timeline(
    request: Request,
    board: BoardDep,
    code: StatusCode,
    asked: SiteDep,
) -> Response:
    """Every change of one site, oldest first: who, when, what."""
    return render(
        request,
        "board_timeline.html",
        principal=board.principal,
        code=code,
        mode=asked.mode,
        site=board.site(code, asked),
        events=shelter_status.timeline(
            board.session, asked.layer, code, asked.key, mode=asked.mode
        ),
        **_board_words(board.catalog, asked.mode),
    )


@router.get("/board/{municipality}/open-many", response_class=HTMLResponse)
def open_many_page(
    request: Request,
    board: BoardDep,
    code: StatusCode,
    mode: ModeDep,
    hazard: str = "",
    district: Annotated[list[str] | None, Query(max_length=200)] = None,
) -> Response:
    """Ask before opening every site designated for a hazard in the chosen districts."""
    chosen = sorted(set(district or []))
    lang = language(request)
    return render(
        request,
        "board_confirm.html",
        principal=board.principal,
        code=code,
        mode=mode,
        hazard=hazard,
        hazard_label=hazard_label(board.catalog, hazard, lang),
        chosen_districts=chosen,
        districts_label="・".join(chosen) if chosen else translate("every_district", lang),
        sites=_chosen(board.sites(code, mode), hazard, chosen),
        back=f"/staff/board/{code}?mode={mode}",
        **_board_words(board.catalog, mode),
    )


@router.post("/board/{municipality}/open-many")
def open_many(
    board: BoardDep,
    code: StatusCode,
    hazard: Annotated[str, Form(max_length=32)] = "",
    mode: Annotated[str, Form(max_length=8)] = "real",
    district: Annotated[list[str] | None, Form(max_length=200)] = None,
) -> Response:
    """Open them (shelters carry no designation: only evacuation sites), in one transaction."""
    check_mode(mode)
    hazard_label(board.catalog, hazard, "ja")  # one of the hazards, not empty
    sites = _chosen(board.sites(code, mode), hazard, sorted(set(district or [])))
    opened = shelter_status.change_many(
        board.session,
        board.catalog,
        board.principal.actor,
        DESIGNATIONS,
        code,
        [s.key for s in sites if s.layer == DESIGNATIONS],
        {"status": "open"},
        mode=mode,
    )
    return RedirectResponse(f"/staff/board/{code}?mode={mode}&done={len(opened)}", status_code=303)
