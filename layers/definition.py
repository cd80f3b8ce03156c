"""The typed model every layer definition in the catalog is validated against."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class Frozen(BaseModel):
    """Base for catalog models: immutable, and unknown keys are errors (typos surface at load)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Category(StrEnum):
    """Top-level groups of the layer tree, in the order residents see them."""

    DISASTER = "disaster"
    MEDICAL = "medical"
    WELFARE = "welfare"
    CHILDCARE = "childcare"
    EDUCATION = "education"
    TOURISM = "tourism"
    PARKS = "parks"
    TRANSIT = "transit"
    ADMINISTRATION = "administration"


CATEGORY_TITLES: dict[Category, tuple[str, str]] = {
    Category.DISASTER: ("防災", "Disaster prevention"),
    Category.MEDICAL: ("医療", "Medical"),
    Category.WELFARE: ("福祉", "Welfare"),
    Category.CHILDCARE: ("子育て", "Childcare"),
    Category.EDUCATION: ("教育", "Education"),
    Category.TOURISM: ("観光", "Tourism"),
    Category.PARKS: ("公園", "Parks"),
    Category.TRANSIT: ("交通", "Transit"),
    Category.ADMINISTRATION: ("行政・コミュニティ", "Administration and community"),
}


class GeometryType(StrEnum):
    """Geometry kinds a layer may hold; single geometries are promoted to Multi* on import."""

    POINT = "point"
    LINE = "line"
    POLYGON = "polygon"


class AttributeType(StrEnum):
    """How an attribute's raw cell is normalised."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    FLAG = "flag"  # 1/○/有/TRUE -> true, blank/×/-/0 -> false, △ -> "conditional"
    ENUM = "enum"  # one of `values`
    URL = "url"
    PHONE = "phone"
    DATE = "date"
    MUNICIPALITY_CODE = "municipality_code"  # 5 or 6 digits -> 6 digits with check digit


class Text(Frozen):
    """A string in Japanese and English."""

    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)


class EnumValue(Frozen):
    """One allowed value of an enum attribute, with its label and legend colour."""

    value: str
    label: Text
    color: Colour | None = None


class Attribute(Frozen):
    """One property of the layer's features.

    ``aliases`` are the column headers of the data sets that map onto this attribute (GSI, the
    Digital Agency standard data sets, KSJ codes,
    common synonyms); matching ignores width
    and spaces.
    """

    name: Identifier
    type: AttributeType = AttributeType.STRING
    label: Text
    aliases: tuple[str, ...] = ()
    # The header a layer's template gives the attribute: the Digital Agency 自治体標準
    # オープンデータセット's where it has one (GSI's for shelters, GTFS's for bus stops). One of
    # the aliases, so a filled-in template imports with no mapping; None: not in the template.
    standard_header: str | None = None
    values: tuple[EnumValue, ...] = ()
    # For a class (a depth rank): the attribute holding the exact value it rounds, shown beside it.
    exact: Identifier | None = None

    @model_validator(mode="after")
    def _enum_has_values(self) -> Attribute:
        if (self.type is AttributeType.ENUM) != bool(self.values):
            raise ValueError("an enum attribute needs `values`, and only an enum may have them")
        if self.standard_header is not None and self.standard_header not in self.aliases:
            raise ValueError(f"standard_header {self.standard_header!r} is not among the aliases")
        return self


class Style(Frozen):
    """How the viewer draws the layer."""

    color: Colour
    fill_color: Colour | None = None
    icon: Identifier
    radius: int = Field(default=6, ge=1, le=30)
    weight: int = Field(default=2, ge=0, le=20)
    fill_opacity: float = Field(default=0.6, ge=0, le=1)
    class_attribute: Identifier | None = None  # colour polygons by this enum attribute


class License(Frozen):
    """The licence the published data is under."""

    name: str = Field(min_length=1)
    url: HttpUrl


class Source(Frozen):
    """Default provenance of a layer's data; shown with every item."""

    attribution: Text
    license: License
    notice: Text | None = None  # e.g. GSI's "may not be the latest" warning, which must be repeated


class Advice(Frozen):
    """What to do when a hazard applies at a point: for some classes of one attribute, or always.

    Rules are tried in order; the first that matches a feature at the point is the answer, so
    a layer lists its most severe classes first.
    """

    attribute: Identifier | None = None  # None: whenever the point is inside the layer
    values: tuple[str, ...] = ()
    text: Text
    # Where to go for this scenario (an evacuation-site flag); None: the layer's evacuation_flag.
    evacuation_flag: Identifier | None = None


class LayerDefinition(Frozen):
    """One catalog entry: a layer shared by all municipalities.

    Parameters
    ----------
    id
        Stable identifier used in URLs and the database.
    id_attribute
        The attribute holding the source's stable key (GSI 共通ID, a standard data set ID), if any.
    unique_ids
        Whether that key names one feature: then a repeated ID with other content is a row error
        (and an exact repeat is dropped). False where the source reuses keys (KSJ school codes:
        a school and its branch share one): repeats are kept apart as ``<id>~n`` with a warning.
    derive
        Names of derivation rules (see ``importers.derivations``) that compute extra attributes.
    """

    id: Identifier
    title: Text
    description: Text | None = None
    category: Category
    geometry_type: GeometryType
    attributes: tuple[Attribute, ...]
    name_attribute: Identifier
    id_attribute: Identifier | None = None
    unique_ids: bool = True
    popup: tuple[Identifier, ...]
    style: Style
    source: Source
    minzoom: int = Field(default=0, ge=0, le=22)
    maxzoom: int = Field(default=22, ge=0, le=22)
    invalid_geometry: Literal["reject", "repair"] = "reject"
    derive: tuple[Identifier, ...] = ()
    # For hazard layers: the evacuation-site flag that answers "where do I go for this hazard".
    evacuation_flag: Identifier | None = None
    # For hazard layers whose features carry several answers (a building's depth per scenario):
    # the attributes a tap at the point reports, in this order.
    point_answer: tuple[Identifier, ...] = ()
    # Flags saying a feature may not be there when needed (an AED on a fire engine that is out,
    # one in a building closed at night): "nearest" lists such features after the others, and
    # the viewer marks them.
    may_be_absent: tuple[Identifier, ...] = ()
    # Published data older than this is pointed out to staff as stale (None: the setting's).
    stale_after_days: int | None = Field(default=None, ge=1, le=3650)
    # What to do where the hazard applies (a tap's answer), and whose guidance the texts follow.
    advice: tuple[Advice, ...] = ()
    advice_source: Text | None = None

    @model_validator(mode="after")
    def _references_exist(self) -> LayerDefinition:
        names = [a.name for a in self.attributes]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"duplicate attributes: {sorted(duplicates)}")
        referenced = {self.name_attribute, *self.popup, *self.point_answer, *self.may_be_absent}
        referenced |= {a.attribute for a in self.advice if a.attribute}
        referenced |= {a.exact for a in self.attributes if a.exact}
        if self.id_attribute:
            referenced.add(self.id_attribute)
        if self.style.class_attribute:
            referenced.add(self.style.class_attribute)
        missing = referenced - set(names)
        if missing:
            raise ValueError(f"unknown attributes referenced: {sorted(missing)}")
        if any(
            self.attribute(n).type is not AttributeType.FLAG
            for n in self.may_be_absent
            if n in names
        ):
            raise ValueError("may_be_absent names flag attributes only")
        if self.advice and self.advice_source is None:
            raise ValueError("advice needs its advice_source")
        if self.minzoom > self.maxzoom:
            raise ValueError("minzoom is greater than maxzoom")
        return self

    def attribute(self, name: str) -> Attribute:
        """Return the attribute called ``name``; raise KeyError if there is none."""
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        raise KeyError(name)
