"""Every text of the staff web in French (the default) and English. Pure.

`text(key, lang, **values)` looks a key up; a missing key is a bug the tests catch (KeyError), never a
silently English page.
"""

from __future__ import annotations

LANGS = ("fr", "en")
DEFAULT_LANG = "fr"

TEXTS: dict[str, tuple[str, str]] = {
    # layout
    "app.title": ("Fidelio — espace équipe", "Fidelio — staff"),
    "nav.till": ("Caisse", "Till"),
    "nav.members": ("Membres", "Members"),
    "nav.audit": ("Journal", "Audit log"),
    "nav.logout": ("Se déconnecter", "Log out"),
    "nav.lang": ("English", "Français"),
    "role.staff": ("équipe", "staff"),
    "role.manager": ("responsable", "manager"),
    "role.admin": ("administrateur", "admin"),
    "footer.ca": ("Certificat de la boutique", "The shop's certificate"),
    # login
    "login.title": ("Connexion", "Log in"),
    "login.name": ("Identifiant", "User name"),
    "login.password": ("Mot de passe", "Password"),
    "login.submit": ("Se connecter", "Log in"),
    "login.wrong": ("Identifiant ou mot de passe incorrect.", "Wrong user name or password."),
    "login.throttled": (
        "Trop d'essais. Réessayez dans {seconds} s.",
        "Too many attempts. Try again in {seconds} s.",
    ),
    "login.expired": (
        "Votre session a expiré : reconnectez-vous.",
        "Your session has expired: log in again.",
    ),
    "login.bye": ("Vous êtes déconnecté.", "You are logged out."),
    # till
    "till.title": ("Bon d'achat à la caisse", "Voucher at the till"),
    "till.help": (
        "Scannez le QR code du bon (la douchette tape le code puis Entrée) ou tapez le code imprimé.",
        "Scan the voucher's QR code (the scanner types the code then Enter) or type the printed code.",
    ),
    "till.code": ("Code du bon", "Voucher code"),
    "till.check": ("Vérifier", "Check"),
    "till.use": ("Marquer comme utilisé", "Mark as used"),
    "till.used_now": ("Bon utilisé : appliquez la récompense.", "Voucher used: apply the reward."),
    "till.reward": ("Récompense", "Reward"),
    "till.value": ("Valeur", "Value"),
    "till.expires": ("Valable jusqu'au", "Valid until"),
    "till.issued": ("Émis le", "Issued"),
    "till.member": ("Membre", "Member"),
    "till.used_at": ("Utilisé le {at} par {by}", "Used on {at} by {by}"),
    "till.throttled": (
        "Trop de codes inconnus. Réessayez dans {seconds} s.",
        "Too many unknown codes. Try again in {seconds} s.",
    ),
    "till.next": ("Bon suivant", "Next voucher"),
    "status.valid": ("Valable", "Valid"),
    "status.used": ("Déjà utilisé", "Already used"),
    "status.expired": ("Expiré", "Expired"),
    "status.unknown": ("Inconnu", "Unknown"),
    "status.mistyped": ("Mal saisi", "Mistyped"),
    "value.amount_off": ("{amount} de remise", "{amount} off"),
    "value.percent_off": ("{percent} % de remise", "{percent}% off"),
    # members
    "members.title": ("Membres", "Members"),
    "members.search": ("Rechercher", "Search"),
    "members.placeholder": (
        "Prénom, téléphone, e-mail, carte ou code membre",
        "First name, phone, e-mail, card or member code",
    ),
    "members.none": ("Aucun membre ne correspond à « {q} ».", "No member matches '{q}'."),
    "members.count": ("{n} membre(s)", "{n} member(s)"),
    "members.more": (
        "Les {n} premiers résultats : précisez la recherche.",
        "The first {n} results: narrow the search.",
    ),
    "col.code": ("Code", "Code"),
    "col.name": ("Prénom", "First name"),
    "col.phone": ("Téléphone", "Phone"),
    "col.email": ("E-mail", "E-mail"),
    "col.tier": ("Niveau", "Tier"),
    "col.balances": ("Soldes", "Balances"),
    "col.last": ("Dernière visite", "Last visit"),
    "col.matched": ("Trouvé par", "Matched by"),
    "matched.name": ("prénom", "name"),
    "matched.phone": ("téléphone", "phone"),
    "matched.email": ("e-mail", "e-mail"),
    "matched.card": ("carte", "card"),
    "matched.code": ("code", "code"),
    # member page
    "member.title": ("Membre {code}", "Member {code}"),
    "member.anonymous": ("(sans prénom)", "(no first name)"),
    "member.balances": ("Soldes", "Balances"),
    "member.totals": ("Depuis l'inscription", "Since joining"),
    "member.tier": ("Niveau", "Tier"),
    "member.top_tier": ("Niveau le plus haut atteint.", "Top tier reached."),
    "member.to_next": ("Plus que {missing} pour le niveau {next}", "{missing} more for the {next} tier"),
    "member.details": ("Coordonnées", "Details"),
    "member.enrolled": ("Inscrit le", "Joined"),
    "member.birth": ("Date de naissance", "Birth date"),
    "member.cards": ("Cartes", "Cards"),
    "member.consents": ("Consentements", "Consents"),
    "member.consent_yes": (
        "accepté le {at} (politique v{version}, {source})",
        "given on {at} (policy v{version}, {source})",
    ),
    "member.consent_no": (
        "refusé le {at} (politique v{version}, {source})",
        "refused on {at} (policy v{version}, {source})",
    ),
    "member.vouchers": ("Bons", "Vouchers"),
    "member.no_vouchers": ("Aucun bon.", "No voucher."),
    "member.history": ("Historique", "History"),
    "member.no_history": ("Aucun mouvement.", "No movement yet."),
    "member.purchase": ("Enregistrer un achat", "Record a purchase"),
    "member.amount": ("Montant (€)", "Amount (€)"),
    "member.receipt": ("N° de ticket (facultatif)", "Receipt no. (optional)"),
    "member.record": ("Enregistrer", "Record"),
    "member.recorded": ("Achat de {amount} enregistré.", "Purchase of {amount} recorded."),
    "member.bad_amount": (
        "Montant invalide : un nombre d'euros positif, par exemple 12,50.",
        "Invalid amount: a positive number of euros, e.g. 12.50.",
    ),
    "consent.email": ("E-mail", "E-mail"),
    "consent.sms": ("SMS", "SMS"),
    "totals.spend_cents": ("dépensés", "spent"),
    "totals.visits": ("visites", "visits"),
    "totals.purchases": ("achats", "purchases"),
    "col.when": ("Quand", "When"),
    "col.what": ("Quoi", "What"),
    "col.who": ("Par", "By"),
    "col.movements": ("Mouvements (règle)", "Movements (rule)"),
    "col.why": ("Pourquoi", "Why"),
    "col.status": ("État", "Status"),
    "event.tap": ("Passage", "Visit"),
    "event.enrol": ("Inscription", "Enrolment"),
    "event.purchase": ("Achat", "Purchase"),
    "event.redeem": ("Échange", "Redemption"),
    "event.expiry": ("Expiration", "Expiry"),
    "who.hub": ("le hub", "the hub"),
    "who.kiosk": ("borne {id}", "kiosk {id}"),
    # audit
    "audit.title": ("Journal des actions", "Audit log"),
    "audit.help": (
        "Qui a fait quoi, quand et d'où : chaque action du personnel et des intégrations.",
        "Who did what, when and from where: every action of the staff and of the integrations.",
    ),
    "col.actor": ("Qui", "Who"),
    "col.action": ("Action", "Action"),
    "col.target": ("Sur", "On"),
    "col.detail": ("Détail", "Detail"),
    "col.address": ("Depuis", "From"),
    "action.login.ok": ("connexion", "logged in"),
    "action.login.failed": ("connexion refusée", "login refused"),
    "action.login.throttled": ("connexion freinée (trop d'essais)", "login throttled (too many attempts)"),
    "action.logout": ("déconnexion", "logged out"),
    "action.voucher.check": ("bon vérifié", "voucher checked"),
    "action.voucher.use": ("bon utilisé", "voucher used"),
    "action.member.search": ("recherche de membres", "member search"),
    "action.member.view": ("fiche membre consultée", "member page viewed"),
    "action.purchase": ("achat enregistré", "purchase recorded"),
    "action.user.add": ("compte créé", "account added"),
    "action.user.remove": ("compte supprimé", "account removed"),
    "action.apikey.add": ("clé d'API créée", "API key added"),
    "action.apikey.revoke": ("clé d'API révoquée", "API key revoked"),
    # errors
    "error.forbidden.title": ("Accès refusé", "Access denied"),
    "error.forbidden": (
        "Cette page est réservée au rôle « {role} » ou plus.",
        "This page needs the '{role}' role or above.",
    ),
    "error.csrf.title": ("Formulaire refusé", "Form refused"),
    "error.csrf": (
        "Ce formulaire a expiré ou ne vient pas de cette page (jeton CSRF invalide). Rechargez la page et recommencez.",
        "This form has expired or did not come from this page (invalid CSRF token). Reload the page and try again.",
    ),
    "error.not_found.title": ("Introuvable", "Not found"),
    "error.not_found": ("Cette page ou ce membre n'existe pas.", "This page or member does not exist."),
    "error.busy.title": ("Hub occupé", "Hub busy"),
    "error.busy": (
        "Le registre n'a pas pu enregistrer l'opération à temps ; rien n'a été perdu : réessayez.",
        "The ledger could not record the operation in time; nothing was lost: try again.",
    ),
    "error.back": ("Retour", "Back"),
}


def pick_lang(value: str | None) -> str:
    return value if value in LANGS else DEFAULT_LANG


def has(key: str) -> bool:
    return key in TEXTS


def text(key: str, lang: str, **values: object) -> str:
    fr, en = TEXTS[key]
    template = en if lang == "en" else fr
    return template.format(**values) if values else template
