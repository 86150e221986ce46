"""The tier ladder: which level a rolling metric reaches, and how far the next one is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.program.model import Text, TierStatus

IMPLICIT_TIER = "Membre"


@dataclass(frozen=True)
class TierLevel:
    name: str
    label: Text
    threshold: int  # in the basis unit (cents, visits or points)
    multiplier_percent: int  # 100 = ×1
    privileges: tuple[Text, ...] = ()  # pairs by position; a missing translation repeats the other

    def to_json(self, basis: str | None) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label.to_json(),
            "threshold": self.threshold,
            "basis": basis,
            "multiplier_percent": self.multiplier_percent,
            "privileges": {
                "fr": [p.fr for p in self.privileges],
                "en": [p.en for p in self.privileges],
            },
        }


@dataclass(frozen=True)
class TierLadder:
    """Levels sorted by strictly increasing threshold, the first at 0 (the loader checks it).

    A program without tiers has a ladder with `basis=None` and the single level "Membre".
    """

    basis: str | None
    window_months: int
    levels: tuple[TierLevel, ...]

    @classmethod
    def implicit(cls) -> TierLadder:
        return cls(None, 0, (TierLevel(IMPLICIT_TIER, Text("Membre", "Member"), 0, 100),))

    @property
    def real(self) -> bool:
        return self.basis is not None

    def metric(self, rolling: Mapping[str, int]) -> int:
        return int(rolling.get(self.basis, 0)) if self.basis else 0

    def index_for(self, metric: int) -> int:
        """Index of the highest level whose threshold is <= metric (0 if none is)."""
        index = 0
        for i, level in enumerate(self.levels):
            if level.threshold <= metric:
                index = i
        return index

    def level_for(self, rolling: Mapping[str, int]) -> TierLevel:
        return self.levels[self.index_for(self.metric(rolling))]

    def index_of(self, name: str | None) -> int | None:
        for i, level in enumerate(self.levels):
            if level.name == name:
                return i
        return None

    def by_name(self, name: str | None) -> TierLevel | None:
        index = self.index_of(name)
        return None if index is None else self.levels[index]

    def status(self, rolling: Mapping[str, int]) -> TierStatus:
        metric = self.metric(rolling)
        index = self.index_for(metric)
        level = self.levels[index]
        if index + 1 >= len(self.levels):
            return TierStatus(level.name, None, {})
        target = self.levels[index + 1]
        return TierStatus(
            level.name,
            target.name,
            {
                "basis": self.basis,
                "current": metric,
                "target": target.threshold,
                "missing": max(0, target.threshold - metric),
                "window_months": self.window_months,
            },
        )
