"""Load the layer catalog (one TOML file per layer) into an immutable mapping."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from layers.definition import LayerDefinition

DEFINITIONS_DIR = Path(__file__).parent / "definitions"
GEOMETRY_COLUMNS_FILE = Path(__file__).parent / "geometry_columns.toml"


class LayerNotFound(LookupError):
    """No layer with that id in the catalog."""

    def __init__(self, layer_id: str) -> None:
        super().__init__(layer_id)
        self.layer_id = layer_id


class CatalogError(ValueError):
    """A definition file is unreadable or invalid; the message names the file."""


class Catalog(Mapping[str, LayerDefinition]):
    """The layers, in a stable order (category order, then file order)."""

    def __init__(self, layers: list[LayerDefinition]) -> None:
        ids = [layer.id for layer in layers]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise CatalogError(f"duplicate layer ids: {duplicates}")
        order = list(type(layers[0].category)) if layers else []
        ordered = sorted(layers, key=lambda layer: order.index(layer.category))
        self._layers = {layer.id: layer for layer in ordered}

    def __getitem__(self, layer_id: str) -> LayerDefinition:
        try:
            return self._layers[layer_id]
        except KeyError:
            raise LayerNotFound(layer_id) from None

    # Mapping's own ``in`` and ``get`` expect KeyError, and LayerNotFound is not one.
    def __contains__(self, layer_id: object) -> bool:
        return layer_id in self._layers

    def get(self, layer_id: str, default: Any = None) -> Any:
        """The layer, or ``default`` when the catalog has none by that id."""
        return self._layers.get(layer_id, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._layers)

    def __len__(self) -> int:
        return len(self._layers)


ADVICE_FILE = Path(__file__).parent / "advice.toml"


@cache
def _advice() -> dict[str, Any]:
    return tomllib.loads(ADVICE_FILE.read_text("utf-8"))


def _resolve_advice(raw: dict[str, Any]) -> dict[str, Any]:
    """A definition's ``advice = [{set, attribute, evacuation_flag}]`` expanded from the shared sets.

    ``attribute`` (the class the set's values are of) and ``evacuation_flag`` (where to go, if
    not the layer's) are optional.
    """
    refs = raw.get("advice", [])
    if not refs or not all(isinstance(r, dict) and "set" in r for r in refs):
        return raw
    shared = _advice()
    rules = [
        {"attribute": ref.get("attribute"), "evacuation_flag": ref.get("evacuation_flag"), **rule}
        for ref in refs
        for rule in shared["sets"][ref["set"]]
    ]
    return raw | {"advice": rules, "advice_source": shared["sources"]["guideline"]}


def load_definition(path: Path) -> LayerDefinition:
    """Read and validate one definition file.

    Raises
    ------
    CatalogError
        If the file is not valid TOML, fails validation, or its name is not ``<id>.toml``.

    Examples
    --------
    >>> layer = load_definition(DEFINITIONS_DIR / "aed.toml")
    >>> layer.id, layer.geometry_type.value, layer.title.en
    ('aed', 'point', 'AED locations')
    """
    try:
        raw = _resolve_advice(tomllib.loads(path.read_text("utf-8")))
        layer = LayerDefinition.model_validate(raw)
    except (tomllib.TOMLDecodeError, ValidationError, KeyError) as exc:
        raise CatalogError(f"{path.name}: {exc}") from exc
    if layer.id != path.stem:
        raise CatalogError(f"{path.name}: id {layer.id!r} does not match the file name")
    return layer


def load_catalog(directory: Path = DEFINITIONS_DIR) -> Catalog:
    """Load every ``*.toml`` definition in ``directory`` (the bundled catalog by default).

    Raises
    ------
    CatalogError
        If any file is invalid, or two define the same id.

    Examples
    --------
    >>> catalog = load_catalog()
    >>> catalog["aed"].title.ja, "aed" in catalog
    ('AED設置箇所', True)
    >>> catalog["nope"]
    Traceback (most recent call last):
    ...
    layers.catalog.LayerNotFound: nope
    """
    return Catalog([load_definition(p) for p in sorted(directory.glob("*.toml"))])


def load_geometry_columns(path: Path = GEOMETRY_COLUMNS_FILE) -> dict[str, tuple[str, ...]]:
    """Header aliases of coordinate and geometry columns, by role (``latitude``, ``survey_x``…).

    Examples
    --------
    >>> roles = load_geometry_columns()
    >>> "緯度" in roles["latitude"], "経度" in roles["longitude"]
    (True, True)
    """
    data = tomllib.loads(path.read_text("utf-8"))
    return {role: tuple(aliases) for role, aliases in data.items()}
