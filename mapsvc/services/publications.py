"""What is published right now, as the read path's validators need it: one state per layer set."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from mapsvc.db.features import layer_state
from mapsvc.db.publication_watch import PublicationWatch


class PublicationState:
    """The publication generation, and each layer set's state remembered within it.

    A state is remembered under the generation read *before* its query: a change that lands
    meanwhile leaves the answer under the old generation, which no later request asks for.
    Without a listening watch nothing is remembered and nothing may be served from memory.
    """

    def __init__(self, watch: PublicationWatch | None) -> None:
        self._watch = watch
        self._remembered: tuple[int, dict[tuple[str, ...], str]] = (-1, {})

    def generation(self) -> int | None:
        """The generation to tag cached responses with; None when the watch is off or deaf."""
        return self._watch.current() if self._watch is not None else None

    def layer_state(self, session: Session, layer_ids: Sequence[str]) -> str:
        """A short hash that changes exactly when the layers' published versions do."""
        generation = self.generation()
        if generation is None:
            return layer_state(session, layer_ids)
        if self._remembered[0] != generation:
            self._remembered = (generation, {})
        states = self._remembered[1]
        key = tuple(layer_ids)
        state = states.get(key)
        if state is None:
            state = states[key] = layer_state(session, layer_ids)
        return state
