"""`fidelio`: the product's umbrella command (`fidelio demo`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fidelio", description="Fidelio loyalty appliance.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="broker + hub + simulated kiosk, one command")
    demo.add_argument("--lang", choices=("fr", "en"), default="fr")
    demo.add_argument("--keep", type=Path, help="keep the demo hub in this directory (new, empty)")
    demo.add_argument("--headless", action="store_true", help="no window, even where a display exists")
    args = parser.parse_args(argv)
    from fidelio.demo import run_demo

    return run_demo(args.lang, args.keep, headless=True if args.headless else None)


if __name__ == "__main__":
    sys.exit(main())
