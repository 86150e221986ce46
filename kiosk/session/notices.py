"""The session's own sentences (notices and refusals), French first. The hub's words come in its replies."""

from __future__ import annotations

from kiosk.session.model import Words
from kiosk.words import euros

OFFLINE_TAP = Words(
    "Hors ligne : votre passage est enregistré et sera compté dès le retour du réseau",
    "Offline: your visit is saved and will be counted as soon as the network is back",
)
OFFLINE_TAP_NO_CACHE = Words(
    "Hors ligne : votre passage est enregistré et votre solde s'affichera à votre prochain passage. "
    "Pas encore membre ? L'inscription ne sera possible qu'au retour du réseau.",
    "Offline: your visit is saved and your balance will show next time. "
    "Not a member yet? You can join once the network is back.",
)
SLOW_TAP = Words(
    "Le hub tarde à répondre : votre passage est enregistré et sera compté dès que possible",
    "The hub is slow to answer: your visit is saved and will be counted as soon as possible",
)
SLOW_TAP_NO_CACHE = Words(
    "Le hub tarde à répondre : votre passage est enregistré et votre solde s'affichera à votre prochain "
    "passage. Pas encore membre ? Réessayez dans un instant pour vous inscrire.",
    "The hub is slow to answer: your visit is saved and your balance will show next time. "
    "Not a member yet? Try again in a moment to join.",
)
BAD_REPLY = Words(
    "Réponse inattendue du hub : réessayez ou demandez au personnel",
    "Unexpected answer from the hub: try again or ask the staff",
)
BUSY = Words(
    "Un instant : nous terminons l'opération en cours",
    "One moment: we are finishing the current operation",
)

REWARD_OFFLINE = Words(
    "Hors ligne : les récompenses ne peuvent être choisies qu'avec le hub",
    "Offline: rewards can only be chosen when the hub is reachable",
)
REWARD_OUT_OF_STOCK = Words("Épuisé", "Out of stock")
REWARD_AUTOMATIC = Words(
    "Offert automatiquement quand votre carte est complète",
    "Given automatically when your card is full",
)
REWARD_NOT_AVAILABLE = Words(
    "Cette récompense n'est pas disponible pour vous en ce moment",
    "This reward is not available to you right now",
)
CATALOGUE_CHANGED = Words(
    "Le catalogue a changé : choisissez à nouveau votre récompense",
    "The catalogue has changed: choose your reward again",
)
REDEEM_OFFLINE = Words(
    "Hors ligne : les récompenses ne peuvent pas être échangées sans le hub (il empêche qu'un solde soit "
    "dépensé deux fois). Rien n'a été débité ; réessayez dès le retour du réseau.",
    "Offline: rewards cannot be redeemed without the hub (it makes sure a balance is never spent twice). "
    "Nothing was taken from your balance; try again when the network is back.",
)
REDEEM_SILENT = Words(
    "Le hub ne répond pas. Si le bon est émis, il sera imprimé ; sinon, rien n'a été débité.",
    "The hub is not answering. If the voucher is issued it will be printed; if not, nothing was taken.",
)
REDEEM_NO_VOUCHER = Words(
    "Échange enregistré, mais le hub n'a pas envoyé de bon : demandez au personnel",
    "Redemption recorded, but the hub sent no voucher: please ask the staff",
)
PRINT_SILENT = Words(
    "L'imprimante ne répond pas : le personnel peut réimprimer votre bon",
    "The printer is not answering: the staff can reprint your voucher",
)

ENROL_QUEUED = Words(
    "Inscription enregistrée : elle sera confirmée dès le retour du réseau",
    "Sign-up saved: it will be confirmed as soon as the network is back",
)
EMAIL_CONSENT_WITHOUT_EMAIL = Words(
    "Vous avez accepté de recevoir des e-mails : indiquez votre adresse e-mail, ou revenez décocher la case",
    "You opted in to e-mails: enter your e-mail address, or go back and untick the box",
)
SMS_CONSENT_WITHOUT_PHONE = Words(
    "Vous avez accepté de recevoir des SMS : indiquez votre numéro de téléphone, ou revenez décocher la case",
    "You opted in to text messages: enter your phone number, or go back and untick the box",
)
FIELD_INVALID = {
    "first_name": Words(
        "Prénom trop long (50 caractères au plus)", "First name too long (50 characters at most)"
    ),
    "email": Words(
        "Adresse e-mail non valide : vérifiez-la (par exemple camille@exemple.fr)",
        "This e-mail address is not valid: check it (e.g. camille@example.com)",
    ),
    "phone": Words(
        "Numéro de téléphone non valide : des chiffres, par exemple 06 12 34 56 78",
        "This phone number is not valid: digits, e.g. +33 6 12 34 56 78",
    ),
    "birth_date": Words(
        "Date de naissance non valide : AAAA-MM-JJ, par exemple 1990-04-23",
        "This birth date is not valid: YYYY-MM-DD, e.g. 1990-04-23",
    ),
}

STAFF_CARD_ONLY = Words(
    "Mode personnel : présentez une carte personnel",
    "Staff mode: present a staff card",
)
STAFF_CARD_ON_PURCHASE = Words(
    "C'est une carte personnel : faites passer la carte du client",
    "This is a staff card: the customer's card is needed",
)
STAFF_AMOUNT_FIRST = Words(
    "Mode personnel : saisissez d'abord le montant de l'achat",
    "Staff mode: enter the purchase amount first",
)
STAFF_AMOUNT_INVALID = Words(
    f"Montant non valide : de {euros(1, 'fr')} à {euros(100_000_000, 'fr')}",
    f"Invalid amount: from {euros(1, 'en')} to {euros(100_000_000, 'en')}",
)
STAFF_NOTHING_TO_REPRINT = Words("Aucun bon à réimprimer", "No voucher to reprint")
STAFF_REPRINTING = Words("Réimpression du dernier bon", "Reprinting the last voucher")
PURCHASE_WAITING = Words("Achat envoyé au hub…", "Purchase sent to the hub…")
PURCHASE_QUEUED = Words(
    "Achat enregistré, il sera compté dès le retour du réseau",
    "Purchase saved, it will be counted as soon as the network is back",
)
PURCHASE_UNKNOWN_CARD_OFFER = Words(
    "Le client peut s'inscrire maintenant à la borne", "The customer can join now at the kiosk"
)


def wrong_pin(left: int) -> Words:
    if left == 1:
        return Words("Code incorrect : encore 1 essai", "Wrong PIN: 1 try left")
    return Words(f"Code incorrect : encore {left} essais", f"Wrong PIN: {left} tries left")


def pin_locked(seconds: int) -> Words:
    return Words(
        f"Trop d'essais : code bloqué, réessayez dans {seconds} s",
        f"Too many tries: PIN locked, try again in {seconds} s",
    )


NOT_KEPT = Words(
    "La borne n'a pas pu enregistrer votre demande (stockage plein ou en panne) : prévenez le personnel.",
    "The kiosk could not record your request (storage full or failing): please tell the staff.",
)
