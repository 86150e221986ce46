"""A hub reply in plain words, French or English (for the headless kiosk, the demo and logs)."""

from __future__ import annotations

from typing import Any


def euros(cents: int, lang: str = "fr") -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    if lang == "fr":
        return f"{sign}{whole:,}".replace(",", "\u202f") + f",{rest:02d} €"
    return f"{sign}€{whole:,}.{rest:02d}"


def _progress(tier: dict[str, Any], lang: str) -> str:
    nxt, prog = tier.get("next"), tier.get("progress") or {}
    if not nxt or "missing" not in prog:
        return "statut le plus élevé" if lang == "fr" else "top tier"
    missing, basis = prog["missing"], prog.get("basis")
    if basis == "spend_cents":
        amount = euros(missing, lang)
        return (
            f"plus que {amount} d'achats pour le statut {nxt}" if lang == "fr" else f"{amount} more to {nxt}"
        )
    unit = {"points": ("points", "points"), "visits": ("visites", "visits")}.get(basis, (basis, basis))
    if lang == "fr":
        return f"plus que {missing} {unit[0]} pour le statut {nxt}"
    return f"{missing} more {unit[1]} to {nxt}"


def _balances(b: dict[str, int], shown: tuple[str, ...], lang: str) -> str:
    names = {
        "points": ("points", "points"),
        "stamps": ("tampons", "stamps"),
    }
    parts = []
    for key in shown:
        if key == "cashback_cents":
            parts.append(f"{'cagnotte' if lang == 'fr' else 'kitty'} {euros(b[key], lang)}")
        else:
            word = names[key][0 if lang == "fr" else 1]
            parts.append(f"{b[key]} {word if b[key] > 1 else word.rstrip('s')}")
    return ", ".join(parts)


def describe(
    reply: dict[str, Any], lang: str = "fr", shown: tuple[str, ...] = ("points", "stamps", "cashback_cents")
) -> list[str]:
    """`shown`: the balances the shop's program uses (`balances` on hub/program)."""
    if not reply.get("ok"):
        err = reply.get("error", {})
        lines = [f"✗ {err.get(lang, err.get('code'))}"]
        offer = err.get("enrolment")
        if offer:
            if offer.get("offer"):
                lines.append("  → inscription possible" if lang == "fr" else "  → can enrol")
            else:
                amount = euros(offer.get("missing_cents", 0), lang)
                lines.append(
                    f"  → inscription dès {amount} d'achats de plus"
                    if lang == "fr"
                    else f"  → can enrol after {amount} more"
                )
        return lines
    m = reply["member"]
    b = m["balances"]
    who = m.get("display_name") or m["code"]
    tier = m["tier"]
    word = "statut" if lang == "fr" else "tier"
    lines = [
        f"✓ {who} ({m['code']}) — {_balances(b, shown, lang)} — {word} {tier['name']}, {_progress(tier, lang)}"
    ]
    lines += [f"  • {e['reason'][lang]}" for e in reply.get("effects", [])]
    for v in reply.get("vouchers", [reply["voucher"]] if "voucher" in reply else []):
        label = "Code du bon, à présenter en caisse" if lang == "fr" else "Voucher code, to show at the till"
        lines.append(f"  🎟 {label} : {v['code']}" if lang == "fr" else f"  🎟 {label}: {v['code']}")
    return lines
