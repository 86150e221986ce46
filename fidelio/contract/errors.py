"""Stable error codes with their French and English texts (DESIGN §3)."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    MALFORMED = "malformed"
    UNSUPPORTED_VERSION = "unsupported_version"
    KIOSK_MISMATCH = "kiosk_mismatch"
    UNKNOWN_CARD = "unknown_card"
    ALREADY_ENROLLED = "already_enrolled"
    UNKNOWN_REWARD = "unknown_reward"
    REWARD_UNAVAILABLE = "reward_unavailable"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    ENROLMENT_NOT_ELIGIBLE = "enrolment_not_eligible"
    UNKNOWN_REFERRER = "unknown_referrer"
    DUPLICATE_ID = "duplicate_id"
    INTERNAL = "internal"


ERROR_TEXTS: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.MALFORMED: (
        "Message illisible ou incomplet.",
        "The message is unreadable or incomplete.",
    ),
    ErrorCode.UNSUPPORTED_VERSION: (
        "Version du protocole non prise en charge par ce hub : mettez la borne ou le hub à jour.",
        "Protocol version not supported by this hub: update the kiosk or the hub.",
    ),
    ErrorCode.KIOSK_MISMATCH: (
        "Cette borne ne peut parler qu'en son propre nom.",
        "This kiosk may only speak for itself.",
    ),
    ErrorCode.UNKNOWN_CARD: (
        "Carte inconnue : elle n'est liée à aucun membre.",
        "Unknown card: it belongs to no member.",
    ),
    ErrorCode.ALREADY_ENROLLED: (
        "Cette carte est déjà inscrite au programme.",
        "This card is already enrolled in the programme.",
    ),
    ErrorCode.UNKNOWN_REWARD: (
        "Cette récompense n'existe pas dans le catalogue.",
        "This reward is not in the catalogue.",
    ),
    ErrorCode.REWARD_UNAVAILABLE: (
        "Cette récompense n'est pas disponible pour vous en ce moment.",
        "This reward is not available to you right now.",
    ),
    ErrorCode.INSUFFICIENT_BALANCE: (
        "Solde insuffisant pour cette récompense.",
        "Not enough balance for this reward.",
    ),
    ErrorCode.ENROLMENT_NOT_ELIGIBLE: (
        "L'inscription n'est pas encore possible pour cette carte.",
        "This card cannot be enrolled yet.",
    ),
    ErrorCode.UNKNOWN_REFERRER: (
        "Code de parrainage inconnu.",
        "Unknown referral code.",
    ),
    ErrorCode.DUPLICATE_ID: (
        "Cet identifiant de requête a déjà été utilisé par une autre borne.",
        "This request id was already used by another kiosk.",
    ),
    ErrorCode.INTERNAL: (
        "Erreur interne du hub ; la demande n'a pas été appliquée, réessayez.",
        "Internal hub error; the request was not applied, try again.",
    ),
}


def error_text(code: ErrorCode) -> dict[str, str]:
    fr, en = ERROR_TEXTS[code]
    return {"fr": fr, "en": en}
