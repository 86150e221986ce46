"""What a printed voucher says and in which order: pure (no printer, no Pillow), shared by the ESC/POS
and PNG renderers so the paper and the screen preview never differ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class Text:
    text: str
    size: Literal["normal", "large"] = "normal"
    align: Literal["left", "center"] = "center"
    bold: bool = False


@dataclass(frozen=True)
class QR:
    data: str


@dataclass(frozen=True)
class Barcode128:
    data: str


@dataclass(frozen=True)
class Rule:
    pass


@dataclass(frozen=True)
class Logo:
    """The shop's logo: a PNG, as a path or its bytes. Renderers scale it to the paper's width."""

    png: str | Path | bytes


Block = Text | QR | Barcode128 | Rule | Logo

_TITLE = {"fr": "BON DE FIDÉLITÉ", "en": "LOYALTY VOUCHER"}
_VALID = {"fr": "Valable jusqu'au {date}", "en": "Valid until {date}"}
_TERMS = {
    "fr": "Utilisable une seule fois, en boutique. Non remboursable, non échangeable contre des espèces.",
    "en": "Single use, in store. Not refundable, not exchangeable for cash.",
}


def format_cents(cents: int, lang: str) -> str:
    whole, rest = divmod(cents, 100)
    return f"{whole},{rest:02d} €" if lang == "fr" else f"€{whole}.{rest:02d}"


def value_text(value: dict[str, Any], lang: str) -> str:
    kind = value.get("kind")
    if kind == "amount_off":
        amount = format_cents(int(value["amount_cents"]), lang)
        return f"{amount} de remise" if lang == "fr" else f"{amount} off"
    if kind == "percent_off":
        return f"{value['percent']} % de remise" if lang == "fr" else f"{value['percent']}% off"
    for key in ("product", "description"):
        if isinstance(value.get(key), dict):
            return str(value[key].get(lang) or value[key].get("fr"))
    return ""


def voucher_date(expires_iso: str, lang: str) -> str:
    """French dates are day/month/year; the hub sends UTC ISO 8601 (its time is authoritative)."""
    day = datetime.fromisoformat(expires_iso).date()
    return day.strftime("%d/%m/%Y") if lang == "fr" else day.isoformat()


def voucher_layout(
    shop_name: str, voucher: dict[str, Any], lang: str = "fr", logo: Logo | None = None
) -> list[Block]:
    name = voucher["name"].get(lang) or voucher["name"]["fr"]
    code = voucher["code"]
    head: list[Block] = [logo] if logo is not None else []
    return [
        *head,
        Text(shop_name, size="large", bold=True),
        Text(_TITLE[lang], bold=True),
        Rule(),
        Text(name, size="large", bold=True),
        Text(value_text(voucher.get("value", {}), lang)),
        Rule(),
        Text(code, size="large", bold=True),
        QR(code),
        Barcode128(code.replace("-", "")),
        Text(_VALID[lang].format(date=voucher_date(voucher["expires"], lang))),
        Text(_TERMS[lang], size="normal", align="left"),
    ]
