"""`fidelio-kiosk doctor`: finds readers and printers, tries a tap and a print, and says in plain
French and English what is wrong and how to fix it. Each check is a small function returning Findings."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kiosk.hardware.printer import STATE_TEXT, PrinterState, ReceiptPrinter
from kiosk.hardware.reader import CardEvent

Level = Literal["ok", "warn", "fail"]
PN533_MODULES = ("pn533", "pn533_usb")
#: USB vendor:product of readers pcscd should show (ACS ACR122U, ACR1252U, ACR1255U-J1).
PCSC_USB_IDS = {("072f", "2200"), ("072f", "223b"), ("072f", "2259")}


@dataclass(frozen=True)
class Finding:
    level: Level
    fr: str
    en: str
    fix_fr: str = ""
    fix_en: str = ""

    def lines(self, lang: str) -> list[str]:
        mark = {"ok": "✓", "warn": "!", "fail": "✗"}[self.level]
        text, fix = (self.fr, self.fix_fr) if lang == "fr" else (self.en, self.fix_en)
        return [f"{mark} {text}"] + ([f"    → {fix}"] if fix else [])


def check_pn533(proc_modules: Path = Path("/proc/modules")) -> list[Finding]:
    try:
        loaded = {line.split()[0] for line in proc_modules.read_text().splitlines() if line}
    except OSError:
        return []
    held = [m for m in PN533_MODULES if m in loaded]
    if not held:
        return [
            Finding(
                "ok",
                "Aucun pilote noyau NFC ne bloque les lecteurs.",
                "No kernel NFC driver holds the readers.",
            )
        ]
    return [
        Finding(
            "fail",
            f"Le noyau tient le lecteur ({', '.join(held)}) : ni pcscd ni nfcpy ne peuvent l'utiliser.",
            f"The kernel holds the reader ({', '.join(held)}): neither pcscd nor nfcpy can use it.",
            "sudo cp kiosk/hardware/system/blacklist-pn533.conf /etc/modprobe.d/ && sudo modprobe -r pn533_usb pn533, "
            "puis débranchez et rebranchez le lecteur",
            "sudo cp kiosk/hardware/system/blacklist-pn533.conf /etc/modprobe.d/ && sudo modprobe -r pn533_usb pn533, "
            "then unplug and plug the reader back in",
        )
    ]


def usb_readers_plugged(sysfs: Path = Path("/sys/bus/usb/devices")) -> list[str]:
    found = []
    for dev in sysfs.glob("*") if sysfs.exists() else []:
        try:
            ids = ((dev / "idVendor").read_text().strip(), (dev / "idProduct").read_text().strip())
        except OSError:
            continue
        if ids in PCSC_USB_IDS:
            found.append(":".join(ids))
    return found


def check_pcsc(list_readers: Callable[[], list[str]] | None = None) -> tuple[list[Finding], list[str]]:
    if list_readers is None:

        def list_readers() -> list[str]:
            from smartcard.System import readers

            return [str(r) for r in readers()]

    try:
        names = list_readers()
    except Exception as exc:  # pyscard: EstablishContextException when pcscd is not there
        return [
            Finding(
                "fail",
                f"Le service pcscd ne répond pas ({exc}).",
                f"The pcscd service does not answer ({exc}).",
                "sudo systemctl enable --now pcscd",
                "sudo systemctl enable --now pcscd",
            )
        ], []
    if not names:
        plugged = usb_readers_plugged()
        hint = (
            ("Un lecteur est branché mais pcscd ne le voit pas : vérifiez le paquet libccid.",
             "A reader is plugged in but pcscd does not see it: check the libccid package.")
            if plugged
            else ("Branchez le lecteur sur un port USB.", "Plug the reader into a USB port.")
        )  # fmt: skip
        return [Finding("warn", "Aucun lecteur PC/SC.", "No PC/SC reader.", *hint)], []
    return [
        Finding("ok", f"Lecteur(s) PC/SC : {', '.join(names)}", f"PC/SC reader(s): {', '.join(names)}")
    ], names


def check_hid(device: str) -> list[Finding]:
    path = Path(device)
    if not path.exists():
        return [Finding("warn", f"Lecteur clavier {device} absent.", f"Keyboard-wedge reader {device} not found.",
                        "branchez-le ; la règle udev crée ce nom", "plug it in; the udev rule makes this name")]  # fmt: skip
    if not os.access(path, os.R_OK):
        return [Finding("fail", f"Pas le droit de lire {device}.", f"No permission to read {device}.",
                        "sudo usermod -aG input kiosk, puis redémarrez", "sudo usermod -aG input kiosk, then reboot")]  # fmt: skip
    return [
        Finding("ok", f"Lecteur clavier {device} accessible.", f"Keyboard-wedge reader {device} readable.")
    ]


def _open_nfc(device: str) -> str:
    import nfc

    clf = nfc.ContactlessFrontend()
    try:
        if not clf.open(device):
            raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
        return str(clf.device)
    finally:
        clf.close()


_NFC_FIX = {
    errno.EACCES: ("l'utilisateur kiosk doit être du groupe plugdev (règle udev 60-fidelio-kiosk.rules) ; rebranchez-le",
                   "the kiosk user must be in the plugdev group (udev rule 60-fidelio-kiosk.rules); plug it back in"),
    errno.EBUSY: ("un autre programme le tient : pcscd ? Un lecteur est à pcscd ou à nfcpy, jamais aux deux",
                  "another program holds it: pcscd? A reader is pcscd's or nfcpy's, never both"),
}  # fmt: skip
_NFC_NOT_FOUND = (
    "branchez-le ; s'il l'est : pcscd le tient-il (arrêtez pcscd ou choisissez kind = \"pcsc\") ? "
    "pn533 est-il chargé (voir plus haut) ?",
    'plug it in; if it is: does pcscd hold it (stop pcscd or use kind = "pcsc")? '
    "is pn533 loaded (see above)?",
)


def check_nfc(device: str, open_device: Callable[[str], str] = _open_nfc) -> list[Finding]:
    """An nfcpy reader (`kind = "nfc"`): nfcpy must open the device itself."""
    try:
        found = open_device(device)
    except Exception as exc:
        fix = _NFC_FIX.get(getattr(exc, "errno", None), _NFC_NOT_FOUND)
        return [Finding("fail", f"Aucun lecteur NFC (nfcpy) sur « {device} » ({exc}).",
                        f"No NFC reader (nfcpy) on '{device}' ({exc}).", *fix)]  # fmt: skip
    return [Finding("ok", f"Lecteur NFC (nfcpy) : {found}", f"NFC reader (nfcpy): {found}")]


def check_printer(printer: ReceiptPrinter, test_print: Callable[[], None] | None = None) -> list[Finding]:
    state = printer.state()
    fr, en = STATE_TEXT[state]
    level: Level = (
        "ok" if state is PrinterState.READY else "warn" if state is PrinterState.PAPER_LOW else "fail"
    )
    findings = [Finding(level, f"Imprimante {printer.name} : {fr}", f"Printer {printer.name}: {en}")]
    if test_print is not None and level != "fail":
        try:
            test_print()
            findings.append(Finding("ok", "Bon de test imprimé.", "Test voucher printed."))
        except Exception as exc:
            findings.append(Finding("fail", f"Impression de test ratée : {exc}", f"Test print failed: {exc}"))
    return findings


def check_tap(
    start_reader: Callable[[Callable[[CardEvent], None]], Callable[[], None]], seconds: float
) -> list[Finding]:
    """Waits for one card; `start_reader(on_event)` starts a reader and returns its stop function."""
    got: list[CardEvent] = []
    seen = threading.Event()

    def on_event(event: CardEvent) -> None:
        if event.kind == "presented":
            got.append(event)
            seen.set()

    stop = start_reader(on_event)
    try:
        seen.wait(seconds)
    finally:
        stop()
    if not got:
        return [Finding("warn", f"Aucune carte lue en {seconds:.0f} s.", f"No card read in {seconds:.0f} s.",
                        "posez une carte à plat au centre du lecteur", "lay a card flat on the reader's centre")]  # fmt: skip
    return [
        Finding(
            "ok",
            f"Carte lue : {got[0].token} ({got[0].reader})",
            f"Card read: {got[0].token} ({got[0].reader})",
        )
    ]
