"""At boot, before the role's services start: undo a switch that a power cut left unconfirmed.

`fidelio-update` writes `pending` before it switches `/opt/fidelio/venv` and clears it once the new
release passed its health check. Found set at boot, the new release never proved itself: the link goes
back to the release it came from, the one known to run, before anything starts from it. The version is
not marked as failed (the power cut was not its fault): the next hourly run installs it again (its
folder is kept, so that is quick) and checks it properly.

Standard library only, run by the system's python3 from a copy made at install time
(`/usr/local/sbin/fidelio-update-bootcheck`), so that it does not depend on the release it may undo.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

MARKER = "fidelio-release.json"  # as fidelio/update/releases.py writes it


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (shared with releases.py and state.py: this module is stdlib-only)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _save(state_path: Path, state: dict) -> None:
    tmp = state_path.with_suffix(".bootcheck.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(state_path)
    fsync_dir(state_path.parent)


def bootcheck(root: Path, state_path: Path) -> str:
    """What was done, in words (FR / EN); the empty string when there was nothing to do."""
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""  # no updater state (never updated) or unreadable: the updater deals with the latter
    pending = state.get("pending") if isinstance(state, dict) else None
    if not isinstance(pending, dict):
        return ""
    old, new = str(pending.get("from")), str(pending.get("to"))
    link = root / "venv"
    try:
        current = Path(os.readlink(link)).name
    except OSError:
        return ""
    if current == new and (root / "releases" / old / MARKER).is_file():
        tmp = root / ".venv.bootcheck"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(Path("releases") / old)
        tmp.replace(link)
        fsync_dir(root)
        done = (
            f"Mise à jour {old} → {new} interrompue (coupure ?) : retour à {old}, nouvel essai plus tard / "
            f"update {old} → {new} was interrupted (power cut?): back on {old}, tried again later"
        )
    elif current == old:
        done = f"Mise à jour {old} → {new} jamais basculée : rien à défaire / never switched: nothing to undo"
    else:
        return ""
    state["pending"] = None
    state["interrupted"] = {"from": old, "to": new, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    _save(state_path, state)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fidelio-update-bootcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/opt/fidelio"))
    parser.add_argument("--state", type=Path, default=Path("/data/fidelio/update.json"))
    args = parser.parse_args(argv)
    said = bootcheck(args.root, args.state)
    if said:
        print(said)
    return 0


if __name__ == "__main__":
    sys.exit(main())
