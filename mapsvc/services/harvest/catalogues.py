"""From a source to its file: a plain URL, a CKAN dataset's resource, or a BODIK API data set.

Every request goes through ``fetcher.fetch`` (the same SSRF rules for a catalogue as for a file).

- CKAN (BODIK ODCS and most municipal catalogues): ``GET {catalogue}/api/3/action/package_show
  ?id={dataset}`` lists the dataset's resources (``url``, ``format``, ``name``) and tags; the
  first resource whose format and name match the source's ``pick`` is fetched, and a ``pick``
  tag must be among the dataset's tags (BODIK marks standard data sets 「自治体標準ODS」).
- BODIK API (the standard data sets of ~360 municipalities behind one API): ``GET {api}/{apiname}
  ?select_type=data&municipalityCode={code}&maxResults=…&offset=…`` answers
  ``{"resultsets": {"features": [GeoJSON features]}}`` a page at a time; the pages are joined
  into one GeoJSON file, whose hash then says whether anything changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import orjson

from mapsvc.services.harvest.fetcher import (
    Fetched,
    FetchFailed,
    FetchPolicy,
    Resolver,
    fetch,
    system_resolver,
)
from mapsvc.services.harvest.sources import SourceDefinition
from mapsvc.services.versions import SourceFile

BODIK_PAGE = 1000


@dataclass(frozen=True)
class Retrieved:
    """The source's file (or "not modified", status 304) and the name to store it under."""

    fetched: Fetched
    filename: str

    def source_file(self, options: dict[str, Any]) -> SourceFile:
        """The fetched bytes as an upload's file (read as the source's options say)."""
        return SourceFile(self.fetched.content, self.filename, options.get("format") or "auto")


def retrieve(
    source: SourceDefinition,
    municipality: str,
    policy: FetchPolicy,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_rows: int,
    resolve: Resolver = system_resolver,
) -> Retrieved:
    """Fetch the source's current file, conditionally on the validators of the last one.

    Raises
    ------
    FetchFailed
        With the reason in plain words (refused, unreachable, not found in the catalogue…).
    """
    if source.kind == "bodik":
        return _bodik(source, municipality, policy, max_rows=max_rows, resolve=resolve)
    url = source.url
    if source.kind == "ckan":
        url = _ckan_resource(source, policy, resolve)
    fetched = fetch(url, policy, etag=etag, last_modified=last_modified, resolve=resolve)
    return Retrieved(fetched, _filename(fetched.url))


def _filename(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return name or "harvested"


def _json(fetched: Fetched, what: str) -> Any:
    try:
        return orjson.loads(fetched.content)
    except orjson.JSONDecodeError:
        raise FetchFailed(
            f"{what}の応答がJSONではありません", f"The {what} did not answer JSON"
        ) from None


def _ckan_resource(source: SourceDefinition, policy: FetchPolicy, resolve: Resolver) -> str:
    base = source.url.rstrip("/")
    query = urlencode({"id": source.reference or ""})
    missing = FetchFailed(
        f"CKANにデータセット「{source.reference}」がありません",
        f"The CKAN catalogue has no dataset {source.reference!r}",
    )
    try:  # CKAN answers an unknown id with 404 (and "success": false)
        shown = fetch(f"{base}/api/3/action/package_show?{query}", policy, resolve=resolve)
    except FetchFailed as failed:
        if failed.status == 404:
            raise missing from None
        raise
    answer = _json(shown, "CKAN")
    result = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(result, dict) or not answer.get("success"):
        raise missing
    tags = {str(t.get("name")) for t in result.get("tags", []) if isinstance(t, dict)}
    tag = source.pick.get("tag")
    if tag and tag not in tags:
        raise FetchFailed(
            f"CKANのデータセットにタグ「{tag}」がありません",
            f"The CKAN dataset does not carry the tag {tag!r}",
        )
    for resource in result.get("resources", []):
        if isinstance(resource, dict) and _matches(resource, source.pick):
            url = str(resource.get("url") or "")
            if url:
                return url
    wanted = ", ".join(f"{k}={v}" for k, v in source.pick.items() if k != "tag") or "any"
    raise FetchFailed(
        f"CKANのデータセットに条件（{wanted}）に合うファイルがありません",
        f"No resource of the CKAN dataset matches ({wanted})",
    )


def _matches(resource: dict[str, Any], pick: dict[str, str]) -> bool:
    fmt, name = pick.get("format"), pick.get("name")
    if fmt and str(resource.get("format") or "").strip().lower() != fmt.lower():
        return False
    return not name or name in str(resource.get("name") or "")


def _bodik(
    source: SourceDefinition,
    municipality: str,
    policy: FetchPolicy,
    *,
    max_rows: int,
    resolve: Resolver,
) -> Retrieved:
    base = f"{source.url.rstrip('/')}/{quote(source.reference or '', safe='')}"
    features: list[Any] = []
    size = 0
    last: Fetched | None = None
    while len(features) <= max_rows:
        query = urlencode(
            {
                "select_type": "data",
                "municipalityCode": municipality,
                "maxResults": BODIK_PAGE,
                "offset": len(features),
            }
        )
        last = fetch(f"{base}?{query}", policy, accept="application/json", resolve=resolve)
        size += len(last.content)
        if size > policy.max_bytes:
            raise FetchFailed(
                "BODIK APIのデータが上限の大きさを超えています",
                "The BODIK API's data is larger than the upload limit",
            )
        answer = _json(last, "BODIK API")
        page = (
            (answer.get("resultsets") or {}).get("features") if isinstance(answer, dict) else None
        )
        if not isinstance(page, list):
            raise FetchFailed(
                "BODIK APIの応答に resultsets.features がありません",
                "The BODIK API's answer has no resultsets.features",
            )
        features.extend(page)
        if len(page) < BODIK_PAGE:
            break
    if not features:
        raise FetchFailed(
            f"BODIK APIに{municipality}の「{source.reference}」のデータがありません",
            f"The BODIK API has no {source.reference!r} data for {municipality}",
        )
    body = orjson.dumps({"type": "FeatureCollection", "features": features})
    joined = Fetched(last.url if last else base, 200, body)
    return Retrieved(joined, f"{source.reference}_{municipality}.geojson")
