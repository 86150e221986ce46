"""`fidelio-kiosk --config FILE`: the kiosk app (touchscreen, or `--headless` text); `fidelio-kiosk doctor`.

FILE is the provisioning file from `fidelio-hub kiosk add`, optionally with `[hardware]`, `[display]`,
`[staff]` and `[storage]` sections (kiosk/config.py). Without a display the kiosk says so and runs
headless: each screen printed in words, commands typed on stdin (`help` lists them).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kiosk.config import KioskConfigError, load_kiosk_config


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["doctor"]:
        from kiosk.doctor_cli import run_doctor

        return run_doctor(argv[1:])
    parser = argparse.ArgumentParser(prog="fidelio-kiosk", description=__doc__)
    parser.add_argument(
        "--config", type=Path, required=True, help="provisioning file from 'fidelio-hub kiosk add'"
    )
    parser.add_argument(
        "--headless", action="store_true", help="no screen: text on stdout, commands on stdin"
    )
    parser.add_argument("--lang", choices=("fr", "en"), help="override [display] lang")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = load_kiosk_config(args.config)
    except KioskConfigError as exc:
        print(f"fidelio-kiosk: {exc}", file=sys.stderr)
        return 2
    if args.lang:
        config = config.model_copy(update={"display": config.display.model_copy(update={"lang": args.lang})})
    from kiosk.app import build_kiosk
    from kiosk.link.outbox import OutboxError
    from kiosk.run import has_display, run_screen, run_stdin

    try:
        runtime = build_kiosk(config)
    except (OSError, OutboxError) as exc:  # a full or read-only disk: words, not a restart loop
        print(
            f"fidelio-kiosk: stockage de la borne inutilisable / kiosk storage unusable: {exc}",
            file=sys.stderr,
        )
        return 2
    if args.headless or not has_display():
        if not args.headless:
            print(
                "fidelio-kiosk : pas d'écran ici, la borne tourne sans écran (texte). / "
                "no display here: running the kiosk headless (text).",
                file=sys.stderr,
            )
        return run_stdin(runtime)
    return run_screen(runtime)


if __name__ == "__main__":
    sys.exit(main())
