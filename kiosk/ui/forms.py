"""The enrolment form's editing rules (pure): what each field accepts as it is typed, and what
"Continue" sends. The DETAILS screen draws it; tests run it without a display."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.session.model import DetailsDone, View
from kiosk.ui.formatting import birth_date_iso, email_plausible
from kiosk.ui.i18n import N_
from kiosk.ui.keys import Page

FIELDS: tuple[tuple[str, str, Page, int], ...] = (
    # name, caption, keyboard page, longest text
    ("first_name", N_("First name"), "letters", 40),
    ("email", N_("E-mail"), "letters", 80),
    ("phone", N_("Phone"), "numeric", 16),
    ("birth_date", N_("Birthday (DD/MM/YYYY)"), "numeric", 8),
)
_CAPS_AFTER = " -'"


@dataclass
class DetailsState:
    values: dict[str, str] = field(default_factory=lambda: {name: "" for name, *_ in FIELDS})
    focus: str = "first_name"
    error: str | None = None  # a msgid

    @classmethod
    def from_view(cls, view: View) -> DetailsState:
        d = view.draft
        birth = d.birth_date  # YYYY-MM-DD → the digits typed, DDMMYYYY
        digits = birth[8:10] + birth[5:7] + birth[0:4] if len(birth) == 10 else ""
        return cls({"first_name": d.first_name, "email": d.email, "phone": d.phone, "birth_date": digits})

    def type(self, text: str) -> None:
        name = self.focus
        value = self.values[name]
        limit = next(n for f, _c, _p, n in FIELDS if f == name)
        if len(value) >= limit:
            return
        if name == "first_name":
            if not value or value[-1] in _CAPS_AFTER:
                text = text.upper()
            if text == " " and (not value or value.endswith(" ")):
                return
        elif name == "email":
            if text == " ":
                return
        elif name == "phone":
            if not (text.isdigit() or (text == "+" and not value)):
                return
        elif name == "birth_date" and not text.isdigit():
            return
        self.values[name] = value + text
        self.error = None

    def back(self) -> None:
        self.values[self.focus] = self.values[self.focus][:-1]
        self.error = None

    def result(self) -> DetailsDone | None:
        """The intent to send, or None with `error` set (and the faulty field focused)."""
        v = self.values
        email = v["email"].strip()
        if not email_plausible(email):
            self.error, self.focus = N_("This e-mail address looks incomplete."), "email"
            return None
        birth = birth_date_iso(v["birth_date"])
        if birth is None:
            self.error, self.focus = (
                N_("Please type the birthday as day, month, year: 8 digits."),
                "birth_date",
            )
            return None
        return DetailsDone(
            first_name=v["first_name"].strip(), email=email, phone=v["phone"], birth_date=birth
        )
