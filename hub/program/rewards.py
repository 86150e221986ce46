"""Rewards of the catalogue, as the program uses them and as kiosks see them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.program import schema
from hub.program.model import Text


def text(value: schema.BilingualModel) -> Text:
    return Text(value.fr, value.en)


@dataclass(frozen=True)
class Reward:
    id: str
    name: Text
    kind: str  # amount_off | percent_off | free_product | experience
    cost: dict[str, int]
    value: dict[str, Any]  # the voucher's value: {"kind": ..., "amount_cents" | "percent" | "product" | ...}
    valid_days: int
    min_tier: str | None = None
    stock: int | None = None
    description: Text | None = None
    automatic: bool = False  # granted by the stamp card, not bought

    @classmethod
    def from_schema(cls, raw: schema.Reward, default_days: int, stamps_every: int | None) -> Reward:
        value: dict[str, Any] = {"kind": raw.kind}
        if raw.kind == "amount_off":
            value["amount_cents"] = raw.amount_cents
        elif raw.kind == "percent_off":
            value["percent"] = raw.percent
        elif raw.kind == "free_product":
            value["product"] = text(raw.product).to_json()  # type: ignore[arg-type]
        else:
            value["description"] = text(raw.description).to_json()  # type: ignore[arg-type]
        automatic = stamps_every is not None
        cost = raw.cost.amounts() if raw.cost else {}
        if automatic and not cost:
            cost = {"stamps": stamps_every}
        return cls(
            id=raw.id,
            name=text(raw.name),
            kind=raw.kind,
            cost=cost,
            value=value,
            valid_days=raw.valid_days or default_days,
            min_tier=raw.min_tier,
            stock=raw.stock,
            description=text(raw.description) if raw.description else None,
            automatic=automatic,
        )

    def to_catalogue(self) -> dict[str, Any]:
        """The contract's catalogue entry: {"id", "name", "cost", "kind", ...kind's value, ...}."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name.to_json(),
            "cost": dict(self.cost),
            "kind": self.kind,
        }
        for key, item in self.value.items():
            if key != "kind":
                out[key] = dict(item) if isinstance(item, dict) else item
        if self.description is not None:
            out["description"] = self.description.to_json()
        if self.min_tier is not None:
            out["min_tier"] = self.min_tier
        if self.stock is not None:
            out["stock"] = self.stock
        out["valid_days"] = self.valid_days
        if self.automatic:
            out["automatic"] = True
        return out
