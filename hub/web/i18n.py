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
    "nav.segments": ("Segments", "Segments"),
    "nav.dashboard": ("Tableau de bord", "Dashboard"),
    "nav.kiosks": ("Bornes", "Kiosks"),
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
    "event.adjust": ("Ajustement", "Adjustment"),
    "event.card_replace": ("Carte remplacée", "Card replaced"),
    "event.merge": ("Fusion", "Merge"),
    "who.hub": ("le hub", "the hub"),
    "who.kiosk": ("borne {id}", "kiosk {id}"),
    # member page: results of actions
    "done.consent": ("Consentement enregistré.", "Consent recorded."),
    "done.adjust": ("Solde ajusté.", "Balance adjusted."),
    "done.card_replace": (
        "Carte remplacée : l'ancienne ne fonctionne plus, le solde suit le membre.",
        "Card replaced: the old one no longer works, the balance stays with the member.",
    ),
    "done.merge": ("Membres fusionnés.", "Members merged."),
    "member.bad_form": ("Formulaire incomplet : rechargez la page.", "Incomplete form: reload the page."),
    "member.reason_required": (
        "Indiquez la raison (3 caractères au moins).",
        "Give the reason (at least 3 characters).",
    ),
    "consent.withdraw": ("Retirer l'accord", "Withdraw consent"),
    "consent.give": ("Donner l'accord", "Give consent"),
    # manager actions
    "manage.title": ("Gestion (responsable)", "Management (manager)"),
    "manage.help": (
        "Chaque action est inscrite au registre avec votre nom et la raison, et au journal.",
        "Each action is written to the ledger with your name and the reason, and to the audit log.",
    ),
    "manage.reason": ("Raison (sans donnée personnelle)", "Reason (no personal data)"),
    "adjust.title": ("Ajuster un solde", "Adjust a balance"),
    "adjust.account": ("Solde", "Balance"),
    "adjust.delta": ("Variation (+ ou −)", "Change (+ or −)"),
    "adjust.submit": ("Ajuster", "Adjust"),
    "adjust.bad_delta": (
        "Variation invalide : un nombre non nul avec son signe, par exemple +50 ou -20 (en euros pour la cagnotte).",
        "Invalid change: a non-zero signed number, e.g. +50 or -20 (in euros for the kitty).",
    ),
    "adjust.refused.insufficient_balance": (
        "Refusé : le solde deviendrait négatif.",
        "Refused: the balance would become negative.",
    ),
    "card.title": ("Remplacer une carte perdue", "Replace a lost card"),
    "card.old": ("Carte perdue", "Lost card"),
    "card.new": ("Nouvelle carte", "New card"),
    "card.submit": ("Remplacer", "Replace"),
    "card.bad_card": (
        "Carte invalide : choisissez la carte perdue et tapez la nouvelle (type:UID, par exemple pcsc:04A1B2C3).",
        "Invalid card: choose the lost card and type the new one (kind:UID, e.g. pcsc:04A1B2C3).",
    ),
    "card_replace.refused.already_enrolled": (
        "Refusé : la nouvelle carte appartient déjà à un membre.",
        "Refused: the new card already belongs to a member.",
    ),
    "card_replace.refused.unknown_card": (
        "Refusé : cette carte n'est pas celle du membre.",
        "Refused: this card is not the member's.",
    ),
    "merge.title": ("Fusionner deux membres", "Merge two members"),
    "merge.help": (
        "Les soldes et l'historique de l'autre membre passent sur {code} ; l'autre fiche est close.",
        "The other member's balances and history move to {code}; the other record is closed.",
    ),
    "merge.other": ("Code de l'autre membre", "The other member's code"),
    "merge.confirm": ("Je confirme la fusion (irréversible)", "I confirm the merge (cannot be undone)"),
    "merge.submit": ("Fusionner", "Merge"),
    "merge.bad_other": (
        "Code inconnu : tapez le code d'un autre membre actif.",
        "Unknown code: type the code of another active member.",
    ),
    "merge.confirm_missing": ("Cochez la confirmation.", "Tick the confirmation."),
    "merge.refused.malformed": (
        "Refusé : l'autre membre n'est plus actif.",
        "Refused: the other member is no longer active.",
    ),
    # privacy
    "privacy.title": ("Données personnelles (RGPD)", "Personal data (GDPR)"),
    "privacy.consents": ("Historique des consentements", "Consent history"),
    "privacy.channel": ("Canal", "Channel"),
    "privacy.choice": ("Choix", "Choice"),
    "privacy.policy": ("Politique", "Policy"),
    "privacy.source": ("Où", "Where"),
    "privacy.granted": ("accepté", "given"),
    "privacy.refused": ("refusé ou retiré", "refused or withdrawn"),
    "privacy.export": ("Exporter les données", "Export the data"),
    "privacy.export_help": (
        "Tout ce que le registre garde sur ce membre, en JSON, à remettre à la personne qui le demande.",
        "Everything the ledger holds about this member, as JSON, for the person who asks for it.",
    ),
    "privacy.export_button": ("Télécharger (JSON)", "Download (JSON)"),
    "erase.title": ("Effacer le membre", "Erase the member"),
    "erase.help": (
        "Prénom, e-mail, téléphone, date de naissance et cartes sont effacés pour de bon ; les totaux du "
        "registre restent (anonymes). Irréversible.",
        "First name, e-mail, phone, birth date and cards are erased for good; the ledger's totals stay "
        "(anonymous). Cannot be undone.",
    ),
    "erase.confirm": ("Pour confirmer, tapez le code {code}", "To confirm, type the code {code}"),
    "erase.submit": ("Effacer définitivement", "Erase for good"),
    "erase.confirm_wrong": (
        "Le code de confirmation ne correspond pas : rien n'a été effacé.",
        "The confirmation code does not match: nothing was erased.",
    ),
    "gone.erased": ("Membre effacé", "Erased member"),
    "gone.erased_help": (
        "Ses données personnelles ont été effacées le {at} ; ses totaux restent dans le registre.",
        "Their personal data was erased on {at}; their totals stay in the ledger.",
    ),
    "gone.merged": ("Membre fusionné", "Merged member"),
    "gone.merged_help": ("Ce membre a été réuni à", "This member was merged into"),
    # dashboard
    "dash.title": ("Tableau de bord", "Dashboard"),
    "dash.help": (
        "Le programme marche-t-il ? Les chiffres du registre, calculés à l'instant.",
        "Is the programme working? The ledger's figures, computed just now.",
    ),
    "dash.members": ("Membres", "Members"),
    "dash.active": ("Actifs 30 j · 90 j", "Active 30 d · 90 d"),
    "dash.active_help": (
        "{a30} venus ces 30 jours, {a90} ces 90 jours",
        "{a30} seen in 30 days, {a90} in 90 days",
    ),
    "dash.frequency": ("Visites par membre venu (90 j)", "Visits per visiting member (90 d)"),
    "dash.frequency_help": (
        "{visits} visite(s) de {visitors} membre(s)",
        "{visits} visit(s) by {visitors} member(s)",
    ),
    "dash.basket": ("Panier moyen membres · non-membres", "Average basket members · non-members"),
    "dash.basket_help": (
        "sur 12 mois : {n} achat(s) de membres, {a} de non-membres",
        "over 12 months: {n} purchase(s) by members, {a} by non-members",
    ),
    "dash.annual": ("Dépense annuelle par membre", "Annual spend per member"),
    "dash.annual_help": (
        "{total} dépensés par les membres en 12 mois",
        "{total} spent by members in 12 months",
    ),
    "dash.vouchers": ("Bons émis · utilisés", "Vouchers issued · used"),
    "dash.vouchers_help": (
        "bons émis sur 12 mois, et combien ont servi",
        "vouchers issued over 12 months, and how many were used",
    ),
    "dash.liability": ("Encours (à rendre aux membres)", "Outstanding (owed to members)"),
    "dash.liability_help": ("et {kitty} de cagnotte, {stamps}", "and {kitty} in kitties, {stamps}"),
    "dash.chart_members": ("Inscriptions et visites par mois", "Enrolments and visits per month"),
    "dash.chart_basket": ("Panier moyen par mois", "Average basket per month"),
    "dash.chart_vouchers": ("Bons émis et utilisés par mois", "Vouchers issued and used per month"),
    "dash.chart_spend": ("Chiffre d'affaires par mois", "Takings per month"),
    "dash.table": ("Mois par mois", "Month by month"),
    "dash.month": ("Mois", "Month"),
    "dash.s.enrolled": ("Inscriptions", "Enrolments"),
    "dash.s.visits": ("Visites", "Visits"),
    "dash.s.member_spend": ("Achats des membres", "Members' purchases"),
    "dash.s.anonymous_spend": ("Achats des non-membres", "Non-members' purchases"),
    "dash.s.member_basket": ("Panier membre", "Member basket"),
    "dash.s.anonymous_basket": ("Panier non-membre", "Non-member basket"),
    "dash.s.vouchers_issued": ("Bons émis", "Vouchers issued"),
    "dash.s.vouchers_used": ("Bons utilisés", "Vouchers used"),
    # kiosks
    "kiosks.title": ("Bornes", "Kiosks"),
    "kiosks.help": (
        "L'état que chaque borne publie : en ligne ou non, achats en attente d'envoi, lecteur et imprimante.",
        "What each kiosk reports: online or not, requests waiting to be sent, reader and printer.",
    ),
    "kiosks.none": ("Aucune borne : ajoutez-en une ci-dessous.", "No kiosk yet: add one below."),
    "kiosks.id": ("Borne", "Kiosk"),
    "kiosks.state": ("État", "State"),
    "kiosks.queue": ("En attente", "Queued"),
    "kiosks.reader": ("Lecteur", "Reader"),
    "kiosks.printer": ("Imprimante", "Printer"),
    "kiosks.seen": ("Dernier message", "Last message"),
    "kiosks.added_at": ("Ajoutée le", "Added"),
    "kiosks.state.online": ("en ligne", "online"),
    "kiosks.state.offline": ("hors ligne", "offline"),
    "kiosks.state.lost": ("perdue (connexion coupée)", "lost (connection dropped)"),
    "kiosks.state.unknown": ("jamais connectée", "never connected"),
    "kiosks.state.revoked": ("révoquée", "revoked"),
    "kiosks.state.unreadable": ("état illisible", "unreadable state"),
    "kiosks.add": ("Ajouter une borne", "Add a kiosk"),
    "kiosks.add_help": (
        "Un identifiant en minuscules, chiffres et tirets (par exemple comptoir-2). La borne reçoit son "
        "propre compte sur le broker.",
        "An id in lower-case letters, digits and dashes (e.g. counter-2). The kiosk gets its own broker account.",
    ),
    "kiosks.add_submit": ("Ajouter", "Add"),
    "kiosks.added": (
        "Borne {id} ajoutée. Son fichier de configuration contient son mot de passe : téléchargez-le maintenant "
        "(une seule fois) ou scannez le QR code sur la borne.",
        "Kiosk {id} added. Its configuration file holds its password: download it now (once only) or scan "
        "the QR code on the kiosk.",
    ),
    "kiosks.download": ("Télécharger le fichier de la borne", "Download the kiosk's file"),
    "kiosks.revoke": ("Révoquer", "Revoke"),
    "kiosks.revoked": (
        "Borne {id} révoquée : elle ne peut plus se connecter.",
        "Kiosk {id} revoked: it can no longer connect.",
    ),
    "kiosks.gone_title": ("Fichier déjà téléchargé", "File already downloaded"),
    "kiosks.gone": (
        "Ce fichier n'est offert qu'une fois, pendant 10 minutes. Révoquez la borne et ajoutez-la de nouveau.",
        "This file is offered once, for 10 minutes. Revoke the kiosk and add it again.",
    ),
    "action.kiosk.add": ("borne ajoutée", "kiosk added"),
    "action.kiosk.revoke": ("borne révoquée", "kiosk revoked"),
    "action.kiosk.provision_download": ("fichier de borne téléchargé", "kiosk file downloaded"),
    # segments
    "segments.title": ("Segments et campagnes", "Segments and campaigns"),
    "segments.help": (
        "Choisissez un groupe de membres, puis exportez-le pour une campagne par e-mail ou par SMS.",
        "Choose a group of members, then export it for an e-mail or SMS campaign.",
    ),
    "segments.pick": ("Groupes", "Groups"),
    "segments.inactive_days": ("Sans visite depuis (jours)", "No visit for (days)"),
    "segments.show": ("Afficher", "Show"),
    "segments.members": ("Membres", "Members"),
    "segments.reach_email": ("Joignables par e-mail", "Reachable by e-mail"),
    "segments.reach_sms": ("Joignables par SMS", "Reachable by SMS"),
    "segments.consent_only": (
        "Un export ne contient que les membres qui ont accepté ce canal (leur dernier choix) et qui ont "
        "l'adresse ou le numéro. Chaque export est inscrit au journal.",
        "An export only holds the members who agreed to that channel (their latest choice) and have the "
        "address or number. Every export is written to the audit log.",
    ),
    "segments.export_email": ("Exporter pour e-mail (CSV)", "Export for e-mail (CSV)"),
    "segments.export_sms": ("Exporter pour SMS (CSV)", "Export for SMS (CSV)"),
    "segments.bad": ("Segment ou canal inconnu.", "Unknown segment or channel."),
    "segment.all": ("Tous les membres", "All members"),
    "segment.birthday": ("Anniversaire ce mois-ci", "Birthday this month"),
    "segment.tier": ("Niveau {tier}", "{tier} tier"),
    "segment.inactive": ("Sans visite depuis {days} jours", "No visit for {days} days"),
    "segment.rfm.champions": ("RFM : champions", "RFM: champions"),
    "segment.rfm.loyal": ("RFM : fidèles", "RFM: loyal"),
    "segment.rfm.new": ("RFM : nouveaux", "RFM: new"),
    "segment.rfm.at_risk": ("RFM : à relancer", "RFM: at risk"),
    "segment.rfm.lost": ("RFM : perdus", "RFM: lost"),
    "segment.rfm_help.champions": (
        "venus ces 30 jours, 12 passages ou plus, 300 € ou plus",
        "seen in the last 30 days, 12 visits or more, 300 € or more",
    ),
    "segment.rfm_help.loyal": (
        "venus ces 90 jours, 4 passages ou plus",
        "seen in the last 90 days, 4 visits or more",
    ),
    "segment.rfm_help.new": ("inscrits ces 30 jours", "joined in the last 30 days"),
    "segment.rfm_help.at_risk": (
        "4 passages ou plus, mais pas venus depuis 90 jours",
        "4 visits or more, but not seen for 90 days",
    ),
    "segment.rfm_help.lost": (
        "moins de 4 passages, pas venus depuis 90 jours",
        "under 4 visits, not seen for 90 days",
    ),
    "action.segment.export": ("segment exporté", "segment exported"),
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
    "action.member.consent": ("consentement changé", "consent changed"),
    "action.member.export": ("données exportées", "data exported"),
    "action.member.erase": ("membre effacé", "member erased"),
    "action.member.adjust": ("solde ajusté", "balance adjusted"),
    "action.member.card_replace": ("carte remplacée", "card replaced"),
    "action.member.merge": ("membres fusionnés", "members merged"),
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
