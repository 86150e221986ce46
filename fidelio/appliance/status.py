"""First boot's outcome, for the kiosk screen, the console and the journal: `/data/fidelio/status.json`.

Messages are French first, then English. `details` are the lines a parser gave (already bilingual).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Status:
    ok: bool
    role: str | None  # "hub", "kiosk", or None (nothing to decide the role from)
    title_fr: str
    title_en: str
    details: list[str] = field(default_factory=list)
    #: what was done, in words (FR / EN), e.g. "fichier retiré de la partition de démarrage / ..."
    steps: list[str] = field(default_factory=list)
    at: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Status:
        data = json.loads(text)
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def lines(self) -> list[str]:
        """Everything, in reading order: the title in French, in English, then the details and steps."""
        return [self.title_fr, self.title_en, *self.details, *self.steps]


NOT_PROVISIONED = Status(
    ok=False,
    role=None,
    title_fr="Borne non configurée : copiez fidelio-kiosk.toml (ou fidelio-hub.toml) sur la carte SD, "
    "partition « bootfs », puis redémarrez.",
    title_en="Not set up: copy fidelio-kiosk.toml (or fidelio-hub.toml) to the SD card's 'bootfs' "
    "partition, then restart.",
)


def read_status(path: Path) -> Status:
    try:
        return Status.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return NOT_PROVISIONED


def write_text_atomic(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(fd, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def issue_text(status: Status) -> str:
    """For the console's login prompt (agetty escapes backslashes)."""
    mark = "OK" if status.ok else "ERREUR / ERROR"
    body = "\n".join(f"  {line}" for line in status.lines())
    return f"\nFidelio — {mark}\n{body}\n\n".replace("\\", "\\\\")
