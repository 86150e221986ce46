"""The updater's memory on `/data` (it survives updates and rollbacks): `/data/fidelio/update.json`.

`pending` is written before the switch and cleared after the health check, so a power cut in between
is finished at the next run (confirmed if the new release runs, rolled back if not); `failed` keeps the
versions that failed here; `last` is what the hub and the staff page are told.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fidelio.update.bootcheck import fsync_dir

DEFAULT_STATE = Path("/data/fidelio/update.json")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class UpdateState:
    previous: str | None = None
    pending: dict[str, str] | None = None
    failed: dict[str, dict[str, str]] = field(default_factory=dict)
    last: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"previous": self.previous, "pending": self.pending, "failed": self.failed, "last": self.last}


class StateFile:
    def __init__(self, path: Path = DEFAULT_STATE) -> None:
        self.path = path

    def load(self) -> UpdateState:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except FileNotFoundError:
            return UpdateState()
        except (OSError, ValueError):
            # A torn or unreadable file: start afresh, keep the bad one for a look.
            self.path.replace(self.path.with_suffix(".unreadable"))
            return UpdateState()
        return UpdateState(
            previous=data.get("previous"),
            pending=data.get("pending"),
            failed=dict(data.get("failed") or {}),
            last=data.get("last"),
        )

    def save(self, state: UpdateState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(state.to_dict(), fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.path)
        fsync_dir(self.path.parent)
