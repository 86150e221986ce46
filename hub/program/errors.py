"""Program file errors, in French and English, with a fix for each.

`explain()` turns one pydantic error into a `ProgramIssue`; the loader adds the line number.
"""

from __future__ import annotations

import datetime as dt
import difflib
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from hub.program.schema import ProgramFile

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class ProgramIssue:
    line: int | None
    key: str
    fr: str
    en: str
    fix_fr: str
    fix_en: str

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line is not None else source
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.fr} / {self.en} — fix: {self.fix_fr} / {self.fix_en}"


class ProgramError(Exception):
    """The program file is invalid; `issues` says where and why, `str()` one line per issue."""

    def __init__(self, issues: list[ProgramIssue], source: str = "program.toml") -> None:
        self.issues = issues
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(issue.render(self.source) for issue in self.issues)


def format_loc(loc: Loc) -> str:
    """("rewards", 1, "cost") → "rewards[1].cost"."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# --- walking the schema along a loc -----------------------------------------------------------


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def type_at(loc: Loc) -> Any:
    """The schema type found at `loc` (unwrapped), or None if the path leaves the schema."""
    tp: Any = ProgramFile
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(part, int):
            if get_origin(tp) is not list:
                return None
            tp = get_args(tp)[0]
        elif isinstance(tp, type) and issubclass(tp, BaseModel) and part in tp.model_fields:
            tp = tp.model_fields[part].annotation
        else:
            return None
    return _unwrap(tp)


def allowed_keys(loc: Loc) -> list[str]:
    tp = type_at(loc)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []


def allowed_values(loc: Loc) -> list[str]:
    tp = type_at(loc)
    if get_origin(tp) is Literal:
        return [str(v) for v in get_args(tp)]
    return []


# --- translation ------------------------------------------------------------------------------


def _what(value: Any) -> tuple[str, str]:
    if isinstance(value, bool):
        return "un booléen", "a boolean"
    if isinstance(value, int):
        return f"le nombre entier {value}", f"the whole number {value}"
    if isinstance(value, float):
        return f"le nombre décimal {value}", f"the decimal number {value}"
    if isinstance(value, str):
        return f"le texte « {value} »", f"the text “{value}”"
    if isinstance(value, dict):
        return "une table", "a table"
    if isinstance(value, list):
        return "une liste", "a list"
    if isinstance(value, dt.date | dt.time):
        return "une date ou une heure", "a date or a time"
    return "une valeur d'un autre type", "a value of another type"


def _table(loc: Loc) -> str:
    return f"[{format_loc(loc)}]" if loc else "le début du fichier"


def _table_en(loc: Loc) -> str:
    return f"[{format_loc(loc)}]" if loc else "the top of the file"


def _quoted(values: list[str]) -> str:
    return ", ".join(f'"{v}"' for v in values)


def explain(error: dict[str, Any]) -> tuple[Loc, str, str, str, str]:
    """One pydantic error → (loc, fr, en, fix_fr, fix_en)."""
    loc: Loc = tuple(error["loc"])
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    name = str(loc[-1]) if loc else ""
    what_fr, what_en = _what(value)

    if kind == "fidelio":
        return loc, ctx["fr"], ctx["en"], ctx["fix_fr"], ctx["fix_en"]
    if kind == "missing" and isinstance(type_at(loc), type) and issubclass(type_at(loc), BaseModel):
        return (
            loc,
            f"section obligatoire manquante [{format_loc(loc)}]",
            f"missing required section [{format_loc(loc)}]",
            f"ajoutez une section [{format_loc(loc)}] (voir docs/program.md)",
            f"add a [{format_loc(loc)}] section (see docs/program.md)",
        )
    if kind == "missing" and get_origin(type_at(loc)) is list:
        return (
            loc,
            f"il faut au moins un bloc [[{format_loc(loc)}]]",
            f"at least one [[{format_loc(loc)}]] block is needed",
            f"ajoutez un bloc [[{format_loc(loc)}]]",
            f"add a [[{format_loc(loc)}]] block",
        )
    if kind == "missing":
        return (
            loc,
            f"clé obligatoire manquante « {name} »",
            f"missing required key “{name}”",
            f"ajoutez {name} = … dans {_table(loc[:-1])}",
            f"add {name} = … under {_table_en(loc[:-1])}",
        )
    if kind == "extra_forbidden":
        keys = allowed_keys(loc[:-1])
        close = difflib.get_close_matches(name, keys, n=1, cutoff=0.5)
        hint_fr = f"vouliez-vous dire « {close[0]} » ? " if close else ""
        hint_en = f"did you mean “{close[0]}”? " if close else ""
        return (
            loc,
            f"clé inconnue « {name} »",
            f"unknown key “{name}”",
            f"{hint_fr}Clés possibles ici : {', '.join(keys) or '—'}",
            f"{hint_en}Keys allowed here: {', '.join(keys) or '—'}",
        )
    if kind in ("int_type", "int_parsing", "int_from_float"):
        fix = (
            f"enlevez les guillemets : {name} = {value}"
            if isinstance(value, str) and value.strip().lstrip("-").isdigit()
            else f"écrivez un nombre entier sans guillemets, p. ex. {name} = 10"
        )
        fix_en = (
            f"remove the quotes: {name} = {value}"
            if isinstance(value, str) and value.strip().lstrip("-").isdigit()
            else f"write a whole number without quotes, e.g. {name} = 10"
        )
        return (
            loc,
            f"un nombre entier est attendu, pas {what_fr}",
            f"a whole number is expected, not {what_en}",
            fix,
            fix_en,
        )
    if kind == "string_type":
        return (
            loc,
            f"du texte entre guillemets est attendu, pas {what_fr}",
            f"text in quotes is expected, not {what_en}",
            f'écrivez {name} = "…"',
            f'write {name} = "…"',
        )
    if kind == "bool_type":
        return (
            loc,
            f"true ou false est attendu, pas {what_fr}",
            f"true or false is expected, not {what_en}",
            "écrivez true ou false, sans guillemets",
            "write true or false, without quotes",
        )
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = next(iter(ctx.values()), "?")
        words = {
            "greater_than": ("strictement supérieur à", "greater than"),
            "greater_than_equal": ("au moins", "at least"),
            "less_than": ("strictement inférieur à", "less than"),
            "less_than_equal": ("au plus", "at most"),
        }[kind]
        return (
            loc,
            f"la valeur {value} doit être {words[0]} {bound}",
            f"the value {value} must be {words[1]} {bound}",
            f"choisissez une valeur {words[0]} {bound}",
            f"choose a value {words[1]} {bound}",
        )
    if kind == "literal_error":
        values = allowed_values(loc) or [ctx.get("expected", "?")]
        close = difflib.get_close_matches(str(value), values, n=1, cutoff=0.5)
        hint_fr = f"vouliez-vous dire « {close[0]} » ? " if close else ""
        hint_en = f"did you mean “{close[0]}”? " if close else ""
        return (
            loc,
            f"valeur non permise : {what_fr}",
            f"value not allowed: {what_en}",
            f"{hint_fr}Valeurs possibles : {_quoted(values)}",
            f"{hint_en}Allowed values: {_quoted(values)}",
        )
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return (
            loc,
            f"une table est attendue, pas {what_fr}",
            f"a table is expected, not {what_en}",
            f"écrivez une section [{format_loc(loc)}] ou une table {{ clé = valeur, … }}",
            f"write a [{format_loc(loc)}] section or a table {{ key = value, … }}",
        )
    if kind == "list_type":
        return (
            loc,
            f"une liste est attendue, pas {what_fr}",
            f"a list is expected, not {what_en}",
            f"écrivez une liste entre crochets [ … ] ou des blocs [[{format_loc(loc)}]]",
            f"write a list in brackets [ … ] or [[{format_loc(loc)}]] blocks",
        )
    if kind == "too_short":
        return (
            loc,
            f"il faut au moins {ctx.get('min_length', 1)} élément(s)",
            f"at least {ctx.get('min_length', 1)} item(s) needed",
            f"ajoutez un bloc [[{format_loc(loc)}]]",
            f"add a [[{format_loc(loc)}]] block",
        )
    if kind == "string_too_short":
        return (
            loc,
            "texte vide",
            "empty text",
            "écrivez quelque chose entre les guillemets",
            "write something in the quotes",
        )
    if kind == "string_too_long":
        limit = ctx.get("max_length", "?")
        return (
            loc,
            f"texte trop long ({limit} caractères au plus)",
            f"text too long (at most {limit} characters)",
            "raccourcissez-le",
            "shorten it",
        )
    if kind.startswith("date"):
        return (
            loc,
            f"une date est attendue, pas {what_fr}",
            f"a date is expected, not {what_en}",
            f"écrivez {name} = 2025-12-24 (sans guillemets)",
            f"write {name} = 2025-12-24 (without quotes)",
        )
    message = str(error.get("msg", kind))
    return (
        loc,
        f"valeur invalide ({message})",
        f"invalid value ({message})",
        "corrigez la valeur",
        "fix the value",
    )
