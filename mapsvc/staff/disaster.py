"""What the disaster board and the disaster-mode page share: hazards' names, districts, ETags.

Hazards are named as the data designates sites for them (``shelter_status.HAZARDS``: the flag
attributes of ``evacuation_sites``), in the words of the catalog's labels, so the board, the
disaster mode and the viewer speak of the same hazards.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

from fastapi import Depends, Query, Request

from importers.towns import TownIndex
from layers import Catalog
from layers.definition import Text
from mapsvc.errors import InvalidParameter
from mapsvc.services import municipalities
from mapsvc.services.seed import SeedManifest
from mapsvc.services.session import Session
from mapsvc.services.shelter_status import HAZARDS, BoardSite, check_mode, site_etag
from mapsvc.services.towns import town_index
from mapsvc.settings import Settings
from mapsvc.staff.pages import language

DESIGNATIONS = "evacuation_sites"  # the layer whose flags say which hazards a site is for


def chosen_mode(mode: Annotated[str, Query(max_length=8)] = "real") -> str:
    """The page's mode: ``real`` (本番), ``drill`` (訓練) or ``test`` (テスト); else 400."""
    return check_mode(mode)


ModeDep = Annotated[str, Depends(chosen_mode)]


class SiteQuery(NamedTuple):
    """One site of the board, in one mode, as a page's query names it."""

    layer: str
    key: str
    mode: str


def site_query(
    layer: Annotated[str, Query(max_length=64)],
    key: Annotated[str, Query(max_length=200)],
    mode: ModeDep,
) -> SiteQuery:
    """The site a timeline or a row is asked for."""
    return SiteQuery(layer, key, mode)


SiteDep = Annotated[SiteQuery, Depends(site_query)]


def municipality_name(request: Request, session: Session, code: str) -> str:
    """The municipality's name in the page's language."""
    found = municipalities.get_municipality(session, code)
    return found.name_en if language(request) == "en" else found.name_ja


class Hazard(NamedTuple):
    """A hazard sites are designated for: its name and its words."""

    name: str
    label: Text


def hazard_choices(catalog: Catalog) -> list[Hazard]:
    """Every hazard, in the data's order, with the catalog's label."""
    labels = {a.name: a.label for a in catalog[DESIGNATIONS].attributes}
    return [Hazard(name, labels[name]) for name in HAZARDS]


def hazard_label(catalog: Catalog, hazard: str, lang: str) -> str:
    """A hazard's name in ``lang`` (400 for a name that is not one of them)."""
    found = next((h for h in hazard_choices(catalog) if h.name == hazard), None)
    if found is None:
        raise InvalidParameter(
            f"災害の種類が正しくありません：{hazard}", f"Unknown hazard: {hazard!r}"
        )
    return found.label.en if lang == "en" else found.label.ja


def towns_of(settings: Settings, municipality_ja: str) -> TownIndex | None:
    """The municipality's towns (町丁目, by its Japanese name), for a site outside the wards."""
    return town_index(SeedManifest.read(settings.seed_manifest), municipality_ja)


def district_name(site: BoardSite) -> str:
    """The name a site's district is filtered by (its Japanese name; empty: not known)."""
    return site.district["ja"] if site.district else ""


def etag_of(site: BoardSite, mode: str) -> str:
    """The ETag of the site's state, also before anything is recorded (revision 0)."""
    if site.status is not None:
        return site.status.etag
    return site_etag(site.layer, site.code, site.key, mode, 0)
