"""The updater's one error type: a stable code and the words for the screen, the CLI and the hub."""

from __future__ import annotations


class UpdateError(Exception):
    """An update refused or failed, with why in French and English (`code` is stable, for tests and logs)."""

    def __init__(self, code: str, fr: str, en: str) -> None:
        super().__init__(f"{fr} / {en}")
        self.code = code
        self.fr = fr
        self.en = en

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "fr": self.fr, "en": self.en}
