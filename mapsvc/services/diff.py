"""What changed between two versions of a dataset: added, removed, changed (and how)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from layers import LayerDefinition
from mapsvc.db import queries
from mapsvc.errors import NotFound

MOVED_THRESHOLD_M = 0.5  # below this, a re-projection or rounding, not a move
LISTED = 1000  # items listed per kind; the counts are always complete


@dataclass
class VersionDiff:
    """Counts and (up to ``LISTED``) items of each kind of change."""

    old: int
    new: int
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {
            "added": 0,
            "removed": 0,
            "changed": 0,
            "moved": 0,  # of the changed, those whose position moved
            "unchanged": 0,
        }
    )
    # The farthest any feature moved, over all of them (the list stops at LISTED).
    largest_move_m: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "from_version": self.old,
            "to_version": self.new,
            "counts": self.counts,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
        }


def _note(diff: VersionDiff, kind: str, item: dict[str, Any]) -> None:
    diff.counts[kind] += 1
    listed: list[dict[str, Any]] = getattr(diff, kind)
    if len(listed) < LISTED:
        listed.append(item)


def diff_versions(
    session: Session, layer: LayerDefinition, dataset_id: int, *, old_id: int, new_id: int
) -> VersionDiff:
    """Compare two versions of one dataset by the source's stable key."""
    for version_id in (old_id, new_id):
        version = queries.get_version(session, version_id)
        if version is None or version.dataset_id != dataset_id:
            raise NotFound(
                "このデータセットにその版はありません", f"No version {version_id} in this dataset"
            )
    diff = VersionDiff(old_id, new_id)
    name = layer.name_attribute
    for pair in queries.pair_features(session, old_id, new_id, name_attribute=name):
        if pair.new is None:
            _note(diff, "removed", {"key": pair.key, "name": (pair.old or {}).get(name)})
        elif pair.old is None:
            _note(diff, "added", {"key": pair.key, "name": pair.new.get(name)})
        else:
            attributes = sorted(
                k for k in pair.old.keys() | pair.new.keys() if pair.old.get(k) != pair.new.get(k)
            )
            moved = pair.moved_m if pair.moved_m and pair.moved_m >= MOVED_THRESHOLD_M else None
            if moved:
                diff.largest_move_m = max(diff.largest_move_m, moved)
            if attributes or moved:
                diff.counts["moved"] += moved is not None
                changes = {a: {"from": pair.old.get(a), "to": pair.new.get(a)} for a in attributes}
                _note(
                    diff,
                    "changed",
                    {
                        "key": pair.key,
                        "name": pair.new.get(name),
                        "attributes": changes,
                        "moved_m": None if moved is None else round(moved, 1),
                    },
                )
            else:
                diff.counts["unchanged"] += 1
    return diff
