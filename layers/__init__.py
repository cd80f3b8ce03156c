"""The layer catalog: layer definitions as data, validated by one typed model."""

from layers.catalog import (
    Catalog,
    CatalogError,
    LayerNotFound,
    load_catalog,
    load_geometry_columns,
)
from layers.definition import (
    CATEGORY_TITLES,
    Advice,
    Attribute,
    AttributeType,
    Category,
    GeometryType,
    LayerDefinition,
)

__all__ = [
    "CATEGORY_TITLES",
    "Advice",
    "Attribute",
    "AttributeType",
    "Catalog",
    "CatalogError",
    "Category",
    "GeometryType",
    "LayerDefinition",
    "LayerNotFound",
    "load_catalog",
    "load_geometry_columns",
]
