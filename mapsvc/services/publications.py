"""What is published right now, as the read path needs it: layer states and each dataset's source.

Both are remembered per publication generation, so a server whose watch is listening asks the
database once per publish, not once per request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from mapsvc.db.features import layer_state
from mapsvc.db.models import STATUS_LAYERS
from mapsvc.db.publication_watch import PublicationWatch
from mapsvc.db.queries import dataset_sources
from mapsvc.db.shelter_status import status_state

T = TypeVar("T")
Sources = dict[str, dict[str, Any]]  # municipality code -> {"municipality": …, "updated": …}


class PublicationState:
    """The publication generation, and each layer set's state remembered within it.

    A state is remembered under the generation read *before* its query: a change that lands
    meanwhile leaves the answer under the old generation, which no later request asks for.
    Without a listening watch nothing is remembered and nothing may be served from memory.
    """

    def __init__(self, watch: PublicationWatch | None) -> None:
        self._watch = watch
        self._remembered: tuple[int, dict[tuple[str, ...], Any]] = (-1, {})

    def generation(self) -> int | None:
        """The generation to tag cached responses with; None when the watch is off or deaf."""
        return self._watch.current() if self._watch is not None else None

    def primary_lsn(self) -> int | None:
        """How far a replica must have replayed to serve public reads (None: use the primary)."""
        return self._watch.primary_lsn() if self._watch is not None else None

    def _remember(self, key: tuple[str, ...], compute: Callable[[], T]) -> T:
        generation = self.generation()
        if generation is None:
            return compute()
        if self._remembered[0] != generation:
            self._remembered = (generation, {})
        remembered = self._remembered[1]
        if key not in remembered:
            remembered[key] = compute()
        value: T = remembered[key]
        return value

    def layer_state(self, session: Session, layer_ids: Sequence[str]) -> str:
        """A short text that changes exactly when the layers' published versions do.

        For the sites' layers also when a status or an emergency changes: their items carry
        the status, so their ETags must move with it.
        """
        return self._remember(("state", *layer_ids), lambda: _state(session, layer_ids))

    def sources(self, session: Session, layer_id: str) -> Sources:
        """Who published each municipality's part of the layer, and when.

        Every feature of that municipality carries it as its ``municipality`` and ``updated``.
        """
        return self._remember(("sources", layer_id), lambda: _sources(session, layer_id))


def _state(session: Session, layer_ids: Sequence[str]) -> str:
    state = layer_state(session, layer_ids)
    if set(layer_ids) & set(STATUS_LAYERS):
        state += ":" + status_state(session, layer_ids)
    return state


def _sources(session: Session, layer_id: str) -> Sources:
    return {
        code: {
            "municipality": {"code": code, "name": {"ja": name_ja, "en": name_en or name_ja}},
            "updated": published.isoformat(timespec="seconds") if published else None,
        }
        | ({"dataDate": data_date} if data_date else {})
        for code, name_ja, name_en, published, data_date in dataset_sources(session, layer_id)
    }


def source_of(sources: Sources, feature_id: str) -> dict[str, Any]:
    """The members of a feature with public id ``<municipality>-<key>`` (empty if unknown)."""
    return sources.get(feature_id.partition("-")[0], {})
