"""fidelio-kiosk.service's program: the kiosk app when the device is set up, otherwise a message.

When first boot succeeded and the kiosk's file loads, this process *becomes* `fidelio-kiosk --config
FILE` (exec: same pid, so systemd's notify and watchdog see the kiosk itself). Otherwise it shows, full
screen, what first boot found wrong (or that the device is not set up), in French and English, and
keeps feeding the watchdog: the installer sees what to do, never a blank screen.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from fidelio.appliance.layout import Layout
from fidelio.appliance.status import NOT_PROVISIONED, Status, read_status
from fidelio.sdnotify import Notifier


def decide(status: Status, config: Path) -> Status | None:
    """None: run the kiosk; else the message to show instead."""
    if not status.ok:
        return status
    if status.role != "kiosk" or not config.exists():
        return NOT_PROVISIONED
    from kiosk.config import KioskConfigError, load_kiosk_config

    try:
        load_kiosk_config(config)
    except KioskConfigError as exc:
        return Status(
            ok=False,
            role="kiosk",
            title_fr="Le fichier de la borne ne se charge plus. Recopiez sur la partition « bootfs » le "
            "fichier fait par « fidelio-hub kiosk add », puis redémarrez.",
            title_en="The kiosk's file no longer loads. Copy the file made by 'fidelio-hub kiosk add' to the "
            "'bootfs' partition again, then restart.",
            details=str(exc).splitlines(),
        )
    return None


def show_text(status: Status, notifier: Notifier) -> int:
    """No display: the message on stdout (the journal, the console), the watchdog fed until stopped."""
    for line in status.lines():
        print(line, flush=True)
    notifier.ready("message shown (text)")
    while True:
        notifier.watchdog()
        time.sleep(notifier.watchdog_interval or 3600)


def main(argv: list[str] | None = None) -> int:
    layout = Layout()
    parser = argparse.ArgumentParser(prog="fidelio-kiosk-launch", description=__doc__.split("\n")[0])
    parser.add_argument("--status", type=Path, default=layout.status)
    parser.add_argument("--config", type=Path, default=layout.kiosk_config)
    parser.add_argument("--kiosk", type=Path, default=Path(sys.executable).parent / "fidelio-kiosk")
    args = parser.parse_args(argv)
    message = decide(read_status(args.status), args.config)
    if message is None:
        os.execv(args.kiosk, [str(args.kiosk), "--config", str(args.config)])
    from kiosk.run import has_display

    if not has_display():
        return show_text(message, Notifier())
    from fidelio.appliance.screen import show_message

    return show_message(message)


if __name__ == "__main__":
    sys.exit(main())
