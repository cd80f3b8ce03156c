"""Tables; the guarantees (immutable versions, insert-only audit) are the migration's triggers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

VERSION_STATUSES = ("staged", "published", "retired")
MUNICIPALITY_KINDS = ("prefecture", "designated_city", "city", "ward", "town", "village")


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints predictably."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True)}  # noqa: RUF012 - SQLAlchemy API


class MunicipalityRow(Base):
    """A prefecture, municipality or ward, by its 6-digit local government code."""

    __tablename__ = "municipality"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{6}$'", name="code_format"),
        CheckConstraint(f"kind IN {MUNICIPALITY_KINDS}", name="kind"),
        CheckConstraint(
            "boundary IS NULL OR (ST_IsValid(boundary) AND NOT ST_IsEmpty(boundary))",
            name="boundary_valid",
        ),
        Index("ix_municipality_boundary", "boundary", postgresql_using="gist"),
    )

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("municipality.code"))
    kind: Mapped[str] = mapped_column(Text)
    name_ja: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    boundary: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)
    )


class LayerRow(Base):
    """A catalog entry, synchronised from ``layers/definitions`` at upgrade time."""

    __tablename__ = "layer"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    category: Mapped[str] = mapped_column(Text)
    geometry_type: Mapped[str] = mapped_column(Text)
    title_ja: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    synced_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DatasetRow(Base):
    """Layer × municipality: the unit a municipality owns and publishes."""

    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("layer_id", "municipality_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[str] = mapped_column(ForeignKey("layer.id"))
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipality.code"), index=True)
    # Readers see exactly the version this points at; publishing and rollback only move it.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("version.id", use_alter=True, deferrable=True, initially="DEFERRED")
    )
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The last version number handed out (never reused, even if a staged version is deleted).
    versions_made: Mapped[int] = mapped_column(Integer, server_default="0")


class SourceFileRow(Base):
    """An uploaded file's original bytes, by content hash, so any version can be rebuilt."""

    __tablename__ = "source_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class VersionRow(Base):
    """One immutable upload of a dataset; only its status and publication time ever change."""

    __tablename__ = "version"
    __table_args__ = (
        UniqueConstraint("dataset_id", "source_sha256", "options"),
        UniqueConstraint("dataset_id", "number", name="uq_version_dataset_id_number"),
        CheckConstraint(f"status IN {VERSION_STATUSES}", name="status"),
        # One published version per dataset, whatever races (migration 0011).
        Index(
            "uq_version_one_published_per_dataset",
            "dataset_id",
            unique=True,
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    # What people read: 1, 2, 3… within the dataset (migration 0012); ``id`` identifies it.
    number: Mapped[int] = mapped_column(Integer)
    source_sha256: Mapped[str] = mapped_column(ForeignKey("source_file.sha256"))
    filename: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    status: Mapped[str] = mapped_column(Text, server_default="staged")
    feature_count: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    published_at: Mapped[datetime | None]


class FeatureRow(Base):
    """A feature of one version, in EPSG:4326, never updated in place."""

    __tablename__ = "feature"
    __table_args__ = (
        CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
        CheckConstraint("ST_SRID(geom) = 4326", name="geom_srid"),
        # (version_id, geom) with btree_gist: every read filters on the published version ids,
        # then on a bbox or a nearest-neighbour order.
        Index("ix_feature_version_geom", "version_id", "geom", postgresql_using="gist"),
        Index("uq_feature_version_key", "version_id", "feature_key", unique=True),
        # Search by name, reading or address: trigrams of the folded text (pg_trgm).
        Index(
            "ix_feature_search",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The version's: checked once per statement at commit by the migration's triggers (0010),
    # not by a foreign key, whose per-row check cost more than the load. A version's features
    # are copied in before its row, which carries their count.
    version_id: Mapped[int] = mapped_column(BigInteger)
    source_id: Mapped[str | None] = mapped_column(Text)
    source_row: Mapped[int | None] = mapped_column(Integer)  # where the report points, in the file
    # Unique within its version and stable across versions when the source has stable IDs: the
    # public feature id is "<municipality>-<feature_key>".
    feature_key: Mapped[str] = mapped_column(Text)
    # Name, reading and address folded for search (mapsvc.db.search.search_text), at write time.
    search_text: Mapped[str | None] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry(srid=4326, spatial_index=False), nullable=False
    )


class AuditRow(Base):
    """Who did what, when, to which dataset, with which file; insert-only (by trigger)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)
    layer_id: Mapped[str | None] = mapped_column(Text)
    municipality_code: Mapped[str | None] = mapped_column(String(6))
    dataset_id: Mapped[int | None] = mapped_column(Integer)
    version_id: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")


# One role set for people and API keys (what each may do: ``mapsvc.services.roles``).
ROLES = ("viewer", "status", "editor", "publisher", "admin")
ROLE_CHECK = f"role IN {ROLES}"


class ApiKeyRow(Base):
    """An API key: only its visible prefix and an HMAC of the whole key are stored."""

    __tablename__ = "api_key"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(Text, unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipality.code"))
    role: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text, server_default="")
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]


class TileGeomRow(Base):
    """A feature's geometry generalised for one zoom band, in EPSG:3857, cut into small pieces."""

    __tablename__ = "tile_geom"
    __table_args__ = (
        Index(
            "ix_tile_geom_version_band_geom", "version_id", "band", "geom", postgresql_using="gist"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id", ondelete="CASCADE"))
    feature_id: Mapped[int] = mapped_column(ForeignKey("feature.id", ondelete="CASCADE"))
    band: Mapped[int] = mapped_column(SmallInteger)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry(srid=3857, spatial_index=False), nullable=False
    )


class StaffUserRow(Base):
    """A person who signs in to the staff portal (never a shared account).

    ``password_hash`` is an Argon2id hash, empty until the invitation link is used.
    """

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(Text, unique=True)  # lower-cased e-mail or user name
    display_name: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    disabled_at: Mapped[datetime | None] = mapped_column()


class StaffRoleRow(Base):
    """What a person may do for one municipality (``admin``: the prefecture's, over all)."""

    __tablename__ = "staff_role"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="role"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True
    )
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipality.code"), primary_key=True
    )
    role: Mapped[str] = mapped_column(Text)


class StaffSessionRow(Base):
    """A signed-in browser: only a digest of its cookie is stored."""

    __tablename__ = "staff_session"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    csrf: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column()


class StaffTokenRow(Base):
    """A one-time link (invitation or password reset); only its digest is stored."""

    __tablename__ = "staff_token"
    __table_args__ = (CheckConstraint("purpose IN ('invite', 'reset')", name="purpose"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class LoginAttemptRow(Base):
    """Each sign-in attempt, for throttling by account and by address."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_login_at", "login", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    login: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text)
    ok: Mapped[bool] = mapped_column()


class UploadProgressRow(Base):
    """How far each staff upload's check has got: any worker can answer the page's poll.

    UNLOGGED (the migration): progress is worth nothing after a crash, and it is written often.
    """

    __tablename__ = "upload_progress"
    __table_args__ = ({"prefixes": ["UNLOGGED"]},)

    job: Mapped[str] = mapped_column(Text, primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)
    done: Mapped[bool] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)


SOURCE_KINDS = ("file", "ckan", "bodik")
FETCH_OUTCOMES = ("unchanged", "published", "staged", "rejected", "failed")


class HarvestSourceRow(Base):
    """Where a dataset's file is published, how to read it, when to fetch it and how it went.

    The row is also the harvest job: ``next_run_at`` says when it is due and ``claimed_until``
    is the lease of the worker running it (migration 0020).
    """

    __tablename__ = "harvest_source"
    __table_args__ = (
        UniqueConstraint("dataset_id"),
        CheckConstraint(f"kind IN {SOURCE_KINDS}", name="kind"),
        CheckConstraint("max_removed_share BETWEEN 0 AND 1", name="max_removed_share"),
        CheckConstraint("max_move_m >= 0", name="max_move_m"),
        Index("ix_harvest_source_due", "next_run_at", postgresql_where=text("NOT paused")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"))
    kind: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)  # the file, the CKAN catalogue or the BODIK API
    reference: Mapped[str | None] = mapped_column(Text)  # CKAN dataset id or BODIK apiname
    pick: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    schedule: Mapped[str] = mapped_column(Text)
    max_removed_share: Mapped[float] = mapped_column(server_default=text("0.2"))
    max_move_m: Mapped[float] = mapped_column(server_default=text("1000"))
    paused: Mapped[bool] = mapped_column(server_default=text("false"))
    next_run_at: Mapped[datetime] = mapped_column(server_default=func.now())
    claimed_until: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    flagged: Mapped[bool] = mapped_column(server_default=text("false"))
    needs_person: Mapped[bool] = mapped_column(server_default=text("false"))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_sha256: Mapped[str | None] = mapped_column(String(64))
    last_checked_at: Mapped[datetime | None]
    last_changed_at: Mapped[datetime | None]
    problem_ja: Mapped[str | None] = mapped_column(Text)
    problem_en: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class HarvestFetchRow(Base):
    """One fetch of a source: when, what came back, and the version made or why none."""

    __tablename__ = "harvest_fetch"
    __table_args__ = (
        CheckConstraint(f"outcome IN {FETCH_OUTCOMES}", name="outcome"),
        Index("ix_harvest_fetch_source_at", "source_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("harvest_source.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    outcome: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(SmallInteger)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    version_id: Mapped[int | None] = mapped_column(BigInteger)
    message_ja: Mapped[str | None] = mapped_column(Text)
    message_en: Mapped[str | None] = mapped_column(Text)


NOTICE_KINDS = ("publish_request",)


class StaffNoticeRow(Base):
    """Something the staff of a municipality should act on, at the top of their home page.

    ``publish_request``: an editor asks the municipality's publishers to publish a version; it is
    done when a version of that dataset is published. (Harvesting and the disaster board add
    their kinds here.)
    """

    __tablename__ = "staff_notice"
    __table_args__ = (
        CheckConstraint(f"kind IN {NOTICE_KINDS}", name="kind"),
        Index(
            "ix_staff_notice_open",
            "municipality_code",
            postgresql_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    kind: Mapped[str] = mapped_column(Text)
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipality.code"))
    layer_id: Mapped[str | None] = mapped_column(Text)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("version.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    done_at: Mapped[datetime | None] = mapped_column()
    done_by: Mapped[str | None] = mapped_column(Text)


# L-Alert's 本番 / 訓練 / テスト; EEI v1.1 item 21 避難所 開設状況: 未開設 / 開設 / 閉鎖 / 不明 / 常設.
STATUS_MODES = ("real", "drill", "test")
SITE_STATUSES = ("not_opened", "open", "closed", "unknown", "permanent")
# The layers whose features are sites with a status.
STATUS_LAYERS = ("evacuation_sites", "shelters")


class ShelterStatusEventRow(Base):
    """One change of a site's status, as it was made; insert-only (by trigger, migration 0021).

    A site is (layer, municipality, feature key): the key is the 共通ID where the file has it,
    so a new file version keeps the site's status. ``change_id`` lets a client retry a change
    without making it twice.
    """

    __tablename__ = "shelter_status_event"
    __table_args__ = (
        UniqueConstraint("change_id"),
        CheckConstraint(f"mode IN {STATUS_MODES}", name="mode"),
        CheckConstraint(f"status IN {SITE_STATUSES}", name="status"),
        CheckConstraint("evacuees >= 0", name="evacuees"),
        CheckConstraint("capacity > 0", name="capacity"),
        Index(
            "ix_shelter_status_event_site",
            "layer_id",
            "municipality_code",
            "feature_key",
            "mode",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    layer_id: Mapped[str] = mapped_column(ForeignKey("layer.id"))
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipality.code"))
    feature_key: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(BigInteger)  # the site's revision this event made
    status: Mapped[str] = mapped_column(Text)
    accepting: Mapped[bool] = mapped_column(Boolean)
    evacuees: Mapped[int | None] = mapped_column(Integer)
    capacity: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, server_default="")
    # The state after the change, whole: a site's status at any time is its latest event then.
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    change_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))


class ShelterStatusCurrentRow(Base):
    """A site's latest status per mode, written with its event in one transaction (row lock).

    ``revision`` counts the site's events in that mode: the strong ETag of the status item.
    """

    __tablename__ = "shelter_status_current"
    __table_args__ = (
        CheckConstraint(f"mode IN {STATUS_MODES}", name="mode"),
        CheckConstraint(f"status IN {SITE_STATUSES}", name="status"),
        CheckConstraint("evacuees >= 0", name="evacuees"),
        CheckConstraint("capacity > 0", name="capacity"),
    )

    layer_id: Mapped[str] = mapped_column(ForeignKey("layer.id"), primary_key=True)
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipality.code"), primary_key=True
    )
    feature_key: Mapped[str] = mapped_column(Text, primary_key=True)
    mode: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str] = mapped_column(Text)
    accepting: Mapped[bool] = mapped_column(Boolean)
    evacuees: Mapped[int | None] = mapped_column(Integer)
    capacity: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, server_default="")
    revision: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[int] = mapped_column(ForeignKey("shelter_status_event.id"))
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(Text)


class EmergencyRow(Base):
    """A municipality's disaster mode: a hazard, its 警戒レベル and a message, from start to end.

    At most one is open per municipality and mode (a partial unique index).
    """

    __tablename__ = "emergency"
    __table_args__ = (
        CheckConstraint(f"mode IN {STATUS_MODES}", name="mode"),
        CheckConstraint("alert_level BETWEEN 1 AND 5", name="alert_level"),
        Index(
            "uq_emergency_one_open",
            "municipality_code",
            "mode",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipality.code"))
    mode: Mapped[str] = mapped_column(Text)
    hazard: Mapped[str] = mapped_column(Text)
    alert_level: Mapped[int] = mapped_column(SmallInteger)
    message_ja: Mapped[str] = mapped_column(Text, server_default="")
    message_en: Mapped[str] = mapped_column(Text, server_default="")
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    started_by: Mapped[str] = mapped_column(Text)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(Text)
