"""The one exception the broker module raises for operator mistakes."""

from __future__ import annotations


class BrokerError(Exception):
    """An operator-facing error; the message reads "<French> / <English>"."""

    def __init__(self, fr: str, en: str) -> None:
        super().__init__(f"{fr} / {en}")
        self.fr = fr
        self.en = en
