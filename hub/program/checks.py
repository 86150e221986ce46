"""Checks that relate several keys of a schema-valid program file.

Each finding names the key (a pydantic-style `loc`) so the loader can give it a line number.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from hub.program.arith import scaled
from hub.program.schema import ProgramFile

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    loc: Loc
    fr: str
    en: str
    fix_fr: str
    fix_en: str


def _suggest(word: str, choices: list[str], aliases: dict[str, str] | None = None) -> tuple[str, str]:
    """(" ; vouliez-vous dire « x » ?", "; did you mean “x”?") or empty strings.

    `aliases` maps other spellings (a tier's labels) to the name to suggest.
    """
    aliases = aliases or {}
    if word in aliases:
        best = aliases[word]
    else:
        close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
        if not close:
            return "", ""
        best = close[0]
    return f" ; vouliez-vous dire « {best} » ?", f"; did you mean “{best}”?"


def _tier_labels(cfg: ProgramFile) -> dict[str, str]:
    out: dict[str, str] = {}
    for level in cfg.tiers.levels if cfg.tiers else []:
        if level.label is not None:
            out.setdefault(level.label.fr, level.name)
            out.setdefault(level.label.en, level.name)
    return out


def _listing(choices: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in choices) if choices else "—"


def cross_check(cfg: ProgramFile) -> list[Finding]:
    return [*_tiers(cfg), *_rewards(cfg), *_stamps(cfg), *_misc(cfg)]


def _tiers(cfg: ProgramFile) -> Iterator[Finding]:
    if cfg.tiers is None:
        return
    basis = cfg.tiers.basis
    seen: set[str] = set()
    previous: int | None = None
    for i, level in enumerate(cfg.tiers.levels):
        loc: Loc = ("tiers", "levels", i)
        if level.name.casefold() in seen:
            yield Finding(
                (*loc, "name"),
                f"niveau « {level.name} » en double",
                f"duplicate tier “{level.name}”",
                "donnez un nom différent à chaque niveau",
                "give each tier a different name",
            )
        seen.add(level.name.casefold())
        if (level.threshold is None) == (level.threshold_euros is None):
            yield Finding(
                loc,
                "indiquez exactement un seuil : threshold ou threshold_euros",
                "give exactly one threshold: threshold or threshold_euros",
                "p. ex. threshold = 0 pour le premier niveau",
                "e.g. threshold = 0 for the first tier",
            )
            continue
        if level.threshold_euros is not None and basis != "spend_cents":
            yield Finding(
                (*loc, "threshold_euros"),
                f'threshold_euros n\'a de sens qu\'avec basis = "spend_cents" (ici "{basis}")',
                f'threshold_euros only makes sense with basis = "spend_cents" (here "{basis}")',
                "utilisez threshold (en visites ou en points)",
                "use threshold (in visits or points)",
            )
            continue
        value = level.threshold if level.threshold is not None else scaled(level.threshold_euros or 0, 2)
        key = "threshold" if level.threshold is not None else "threshold_euros"
        if i == 0 and value != 0:
            yield Finding(
                (*loc, key),
                "le premier niveau doit avoir un seuil de 0 (tout membre a un niveau)",
                "the first tier's threshold must be 0 (every member has a tier)",
                f"écrivez {key} = 0",
                f"write {key} = 0",
            )
        if previous is not None and value <= previous:
            yield Finding(
                (*loc, key),
                "les seuils doivent être strictement croissants",
                "thresholds must be strictly increasing",
                "classez les niveaux du plus bas au plus haut, avec des seuils tous différents",
                "list the tiers from lowest to highest, with different thresholds",
            )
        previous = value


_KIND_FIELDS = {
    "amount_off": "amount_cents",
    "percent_off": "percent",
    "free_product": "product",
    "experience": "description",
}
_EXAMPLES = {
    "amount_cents": ("amount_cents = 500   # 5 €", "amount_cents = 500   # 5 €"),
    "percent": ("percent = 10", "percent = 10"),
    "product": (
        'product = { fr = "Un café", en = "A coffee" }',
        'product = { fr = "Un café", en = "A coffee" }',
    ),
    "description": (
        'description = { fr = "Un atelier", en = "A workshop" }',
        'description = { fr = "Un atelier", en = "A workshop" }',
    ),
}


def _rewards(cfg: ProgramFile) -> Iterator[Finding]:
    tier_names = [lv.name for lv in cfg.tiers.levels] if cfg.tiers else []
    stamp_reward = cfg.stamps.reward if cfg.stamps else None
    ids: set[str] = set()
    for i, reward in enumerate(cfg.rewards):
        loc: Loc = ("rewards", i)
        if reward.id in ids:
            yield Finding(
                (*loc, "id"),
                f"identifiant « {reward.id} » déjà utilisé",
                f"id “{reward.id}” is already used",
                "donnez un identifiant unique à chaque récompense",
                "give each reward a unique id",
            )
        ids.add(reward.id)
        needed = _KIND_FIELDS[reward.kind]
        if getattr(reward, needed) is None:
            fr_ex, en_ex = _EXAMPLES[needed]
            yield Finding(
                loc,
                f"une récompense de type « {reward.kind} » doit préciser {needed}",
                f"a reward of kind “{reward.kind}” needs {needed}",
                f"ajoutez {fr_ex}",
                f"add {en_ex}",
            )
        for other in ("amount_cents", "percent", "product"):
            if other != needed and getattr(reward, other) is not None:
                yield Finding(
                    (*loc, other),
                    f"{other} ne sert pas pour une récompense de type « {reward.kind} »",
                    f"{other} is not used by a reward of kind “{reward.kind}”",
                    f"supprimez {other} ou changez kind",
                    f"remove {other} or change kind",
                )
        stamp_typo = stamp_reward is not None and stamp_reward not in {r.id for r in cfg.rewards}
        if reward.cost is None and reward.id != stamp_reward and not stamp_typo:
            yield Finding(
                loc,
                "coût manquant (cost)",
                "missing cost",
                "ajoutez p. ex. cost = { points = 100 }",
                "add e.g. cost = { points = 100 }",
            )
        if reward.min_tier is not None and reward.min_tier not in tier_names:
            hint_fr, hint_en = _suggest(reward.min_tier, tier_names, _tier_labels(cfg))
            if not tier_names:
                fix = (
                    "ajoutez une section [tiers] ou supprimez min_tier",
                    "add a [tiers] section or remove min_tier",
                )
            else:
                fix = (
                    f"niveaux existants : {_listing(tier_names)}",
                    f"existing tiers: {_listing(tier_names)}",
                )
            yield Finding(
                (*loc, "min_tier"),
                f"niveau inconnu « {reward.min_tier} »{hint_fr}",
                f"unknown tier “{reward.min_tier}”{hint_en}",
                *fix,
            )


def _stamps(cfg: ProgramFile) -> Iterator[Finding]:
    stamps = cfg.stamps
    if stamps is None:
        return
    if (stamps.every is None) != (stamps.reward is None):
        missing = "reward" if stamps.reward is None else "every"
        yield Finding(
            ("stamps",),
            f"every et reward vont ensemble : il manque {missing}",
            f"every and reward go together: {missing} is missing",
            'p. ex. every = 10 et reward = "cafe-offert", ou supprimez les deux',
            'e.g. every = 10 and reward = "free-coffee", or remove both',
        )
        return
    if stamps.reward is None or stamps.every is None:
        return
    ids = [r.id for r in cfg.rewards]
    if stamps.reward not in ids:
        hint_fr, hint_en = _suggest(stamps.reward, ids)
        yield Finding(
            ("stamps", "reward"),
            f"récompense inconnue « {stamps.reward} »{hint_fr}",
            f"unknown reward “{stamps.reward}”{hint_en}",
            f"déclarez-la dans un bloc [[rewards]] (identifiants existants : {_listing(ids)})",
            f"declare it in a [[rewards]] block (existing ids: {_listing(ids)})",
        )
        return
    index = ids.index(stamps.reward)
    reward = cfg.rewards[index]
    loc: Loc = ("rewards", index)
    if reward.cost is not None and reward.cost.amounts() != {"stamps": stamps.every}:
        yield Finding(
            (*loc, "cost"),
            f"cette récompense est donnée automatiquement tous les {stamps.every} tampons : "
            f"son coût doit être {{stamps = {stamps.every}}}",
            f"this reward is given automatically every {stamps.every} stamps: "
            f"its cost must be {{stamps = {stamps.every}}}",
            f"écrivez cost = {{ stamps = {stamps.every} }} ou supprimez cost",
            f"write cost = {{ stamps = {stamps.every} }} or remove cost",
        )
    for key in ("stock", "min_tier"):
        if getattr(reward, key) is not None:
            yield Finding(
                (*loc, key),
                f"la récompense des tampons est donnée automatiquement : {key} ne s'applique pas",
                f"the stamp reward is given automatically: {key} does not apply",
                f"supprimez {key}",
                f"remove {key}",
            )


def _misc(cfg: ProgramFile) -> Iterator[Finding]:
    if cfg.expiry.mode != "none":
        if cfg.expiry.months is None:
            yield Finding(
                ("expiry",),
                f"le mode d'expiration « {cfg.expiry.mode} » demande une durée (months)",
                f"expiry mode “{cfg.expiry.mode}” needs a duration (months)",
                "ajoutez p. ex. months = 12",
                "add e.g. months = 12",
            )
        if not cfg.expiry.balances:
            yield Finding(
                ("expiry", "balances"),
                "aucun solde n'expire alors que l'expiration est activée",
                "no balance expires although expiry is on",
                'p. ex. balances = ["points"], ou mode = "none"',
                'e.g. balances = ["points"], or mode = "none"',
            )
    if cfg.enrolment.policy == "spend_threshold" and cfg.enrolment.threshold_cents is None:
        yield Finding(
            ("enrolment",),
            "la politique « spend_threshold » demande un seuil (threshold_cents)",
            "policy “spend_threshold” needs a threshold (threshold_cents)",
            "ajoutez p. ex. threshold_cents = 6000   # 60 €",
            "add e.g. threshold_cents = 6000   # 60 €",
        )
    for i, day in enumerate(cfg.bonuses.day_multiplier):
        if (day.weekday is None) == (day.date is None):
            yield Finding(
                ("bonuses", "day_multiplier", i),
                "indiquez soit weekday (jour de la semaine), soit date (un jour précis)",
                "give either weekday (day of the week) or date (a specific day)",
                'p. ex. weekday = "mercredi" ou date = 2025-12-24',
                'e.g. weekday = "wednesday" or date = 2025-12-24',
            )
