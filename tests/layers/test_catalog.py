import tomllib
from pathlib import Path

import pytest

from importers.derivations import DERIVATIONS
from layers import AttributeType, CatalogError, Category, GeometryType, load_catalog
from layers.catalog import DEFINITIONS_DIR, Catalog, load_definition

REQUIRED = {
    "evacuation_sites",
    "shelters",
    "schools",
    "public_facilities",
    "municipal_boundaries",
    "aed",
    "medical_institutions",
    "care_facilities",
    "childcare_facilities",
    "tourism_facilities",
    "parks",
    "public_toilets",
    "bus_stops",
    "bus_routes",
    "flood_hazard",
    "landslide_hazard",
}


def test_catalog_defines_every_required_layer_in_every_category(catalog):
    assert set(catalog) >= REQUIRED
    assert {layer.category for layer in catalog.values()} == set(Category)


def test_evacuation_sites_have_the_eight_hazard_flags(catalog):
    flags = [a.name for a in catalog["evacuation_sites"].attributes if a.type is AttributeType.FLAG]
    hazards = {
        "flood",
        "landslide",
        "storm_surge",
        "earthquake",
        "tsunami",
        "large_fire",
        "inland_flood",
        "volcano",
    }
    assert hazards <= set(flags)


def test_hazard_layers_are_polygons_with_classes_and_colours(catalog):
    for layer_id in ("flood_hazard", "landslide_hazard"):
        layer = catalog[layer_id]
        assert layer.geometry_type is GeometryType.POLYGON
        classes = layer.attribute(layer.style.class_attribute)
        assert classes.values and all(v.color for v in classes.values)
    assert len(catalog["flood_hazard"].attribute("depth_class").values) == 6


def test_every_derivation_named_by_a_layer_exists(catalog):
    for layer in catalog.values():
        assert set(layer.derive) <= set(DERIVATIONS), layer.id


def test_every_layer_has_licence_attribution_and_bilingual_labels(catalog):
    for layer in catalog.values():
        assert layer.source.attribution.ja and layer.source.attribution.en
        assert str(layer.source.license.url).startswith("https://")
        assert all(a.label.ja and a.label.en for a in layer.attributes)


def _write(tmp_path: Path, name: str, data: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(data, "utf-8")
    return path


BASE = (DEFINITIONS_DIR / "parks.toml").read_text("utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.replace('popup = ["name"', 'popup = ["nonexistent"'), "unknown attributes"),
        (lambda s: s.replace('category = "parks"', 'category = "sports"'), "category"),
        (
            lambda s: s + '\n[[attributes]]\nname = "name"\nlabel = { ja = "x", en = "x" }\n',
            "duplicate",
        ),
        (
            lambda s: s.replace('geometry_type = "point"', 'geometry_type = "circle"'),
            "geometry_type",
        ),
        (lambda s: s + "\nunexpected_key = 1\n", "unexpected_key"),
        (lambda s: s.replace("minzoom = 10", "minzoom = 10\nmaxzoom = 5"), "minzoom"),
        (lambda s: s.replace('type = "number"', 'type = "enum"'), "enum"),
        (lambda s: s.replace('id = "parks"', 'id = "other"'), "does not match"),
        (lambda s: s.replace("[source]", "[source\n"), "parks.toml"),
        (
            # A template header no alias matches would need a mapping: refused.
            lambda s: s.replace('standard_header = "名称"', 'standard_header = "公園の名前"'),
            "standard_header",
        ),
    ],
)
def test_invalid_definitions_are_refused_with_the_file_named(tmp_path, change, message):
    path = _write(tmp_path, "parks", change(BASE))
    with pytest.raises(CatalogError, match=message):
        load_definition(path)


def test_duplicate_layer_ids_are_refused():
    layer = load_definition(DEFINITIONS_DIR / "parks.toml")
    with pytest.raises(CatalogError, match="duplicate layer ids"):
        Catalog([layer, layer])


def test_shipped_definitions_are_plain_toml_files_named_by_id():
    catalog = load_catalog()
    for path in DEFINITIONS_DIR.glob("*.toml"):
        assert tomllib.loads(path.read_text("utf-8"))["id"] == path.stem
    assert len(catalog) == len(list(DEFINITIONS_DIR.glob("*.toml")))


def test_in_and_get_answer_for_a_missing_layer_instead_of_raising() -> None:
    # Mapping's own `in` and `get` catch only KeyError; LayerNotFound is a LookupError.
    catalog = load_catalog()
    assert "aed" in catalog and "no_such_layer" not in catalog
    assert catalog.get("no_such_layer") is None and catalog.get("aed") is catalog["aed"]
