"""Command line of `fidelio-kiosk doctor`: builds the checks from options and prints the findings."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from escpos.printer import File, Network

from kiosk.doctor import Finding, check_hid, check_nfc, check_pcsc, check_pn533, check_printer, check_tap
from kiosk.hardware.nfc import NfcReader
from kiosk.hardware.pcsc import PcscReader
from kiosk.hardware.printer import EscposReceiptPrinter
from kiosk.hardware.reader import CardReader
from kiosk.hardware.voucher_layout import voucher_layout


def printer_from_spec(spec: str, paper_mm: int) -> EscposReceiptPrinter:
    """`tcp:HOST[:PORT]` (network printer, port 9100) or `file:PATH` (a device file such as /dev/usb/lp0)."""
    kind, _, rest = spec.partition(":")
    if kind == "tcp":
        host, _, port = rest.partition(":")
        return EscposReceiptPrinter(
            spec, lambda: Network(host, int(port or 9100), timeout=5, profile="TM-T88V"), paper_mm
        )
    if kind == "file":
        return EscposReceiptPrinter(
            spec, lambda: File(rest, profile="TM-T88V"), paper_mm, answers_status=False
        )
    raise SystemExit(
        f"--printer: tcp:HOST[:PORT] ou file:PATH / tcp:HOST[:PORT] or file:PATH, pas/not {spec!r}"
    )


def test_voucher() -> dict:
    return {
        "code": "TEST-TEST-TEST-TEST-0",
        "name": {"fr": "Bon de test", "en": "Test voucher"},
        "value": {"kind": "experience", "description": {"fr": "Ne pas accepter", "en": "Do not accept"}},
        "expires": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }


def run_doctor(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="fidelio-kiosk doctor", description="Checks the kiosk's readers and printer."
    )
    p.add_argument("--printer", help="tcp:HOST[:PORT] or file:PATH")
    p.add_argument("--paper", type=int, choices=(58, 80), default=80)
    p.add_argument("--test-print", action="store_true", help="print a test voucher")
    p.add_argument("--tap", type=float, default=0, metavar="SECONDS", help="wait this long for a test tap")
    p.add_argument("--hid", metavar="DEVICE", help="a keyboard-wedge reader's input device")
    p.add_argument("--nfc", metavar="DEVICE", help='an nfcpy reader: "usb", "usb:072f:2200", "udp:HOST:PORT"')
    p.add_argument("--lang", choices=("fr", "en"), default="fr")
    args = p.parse_args(argv)

    findings: list[Finding] = [*check_pn533()]
    pcsc, names = check_pcsc()
    findings += pcsc
    if args.hid:
        findings += check_hid(args.hid)
    readers: list[CardReader] = [PcscReader(poll_seconds=0.05)] if names else []
    if args.nfc:
        nfc = check_nfc(args.nfc)
        findings += nfc
        if nfc[0].level == "ok":
            readers.append(NfcReader(args.nfc))
    if args.tap and readers:

        def stop_all() -> None:
            for reader in readers:
                reader.stop()

        def start(on_event):  # type: ignore[no-untyped-def]
            for reader in readers:
                reader.start(on_event)
            return stop_all

        print(
            "Posez une carte sur le lecteur…" if args.lang == "fr" else "Tap a card on the reader…",
            flush=True,
        )
        findings += check_tap(start, args.tap)
    if args.printer:
        printer = printer_from_spec(args.printer, args.paper)
        blocks = voucher_layout("Fidelio", test_voucher(), args.lang)
        findings += check_printer(
            printer, (lambda: printer.print_blocks(blocks)) if args.test_print else None
        )
    for finding in findings:
        print("\n".join(finding.lines(args.lang)))
    return 1 if any(f.level == "fail" for f in findings) else 0
