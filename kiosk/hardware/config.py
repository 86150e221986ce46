"""Which reader(s) and which printer a kiosk uses: configuration, strictly validated (unknown keys are
errors), turned into drivers by `build_reader` / `build_printer`. Choosing hardware is configuration,
not code."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk.hardware.printer import EscposReceiptPrinter, ReceiptPrinter
from kiosk.hardware.reader import CardReader, SimulatedReader

if TYPE_CHECKING:
    from escpos.escpos import Escpos

#: The device paths nfcpy's ContactlessFrontend.open understands (a typo is refused, not searched for).
NFC_DEVICE = r"^(usb(:[0-9A-Fa-f]{3,4}(:[0-9A-Fa-f]{3,4})?)?|tty:\w+(:\w+)?|udp(:[\w.-]*(:\d{1,5})?)?)$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PcscReaderConfig(_Strict):
    kind: Literal["pcsc"]
    reader_pattern: str = Field(".*", description="regular expression on the PC/SC reader name")
    poll_ms: Annotated[int, Field(ge=10, le=1000)] = 50


class HidReaderConfig(_Strict):
    kind: Literal["hid"]
    device: str = "/dev/fidelio-hid-reader"
    format: Literal["dec", "hex"] = "dec"
    reverse: bool = False


class NfcReaderConfig(_Strict):
    """A reader nfcpy drives itself (not through pcscd): PN533-class USB readers, or nfcpy's udp driver."""

    kind: Literal["nfc"]
    device: str = Field(
        "usb",
        pattern=NFC_DEVICE,
        description='nfcpy path: "usb", "usb:072f:2200" (vendor:product), "usb:001:023" (bus:device), '
        '"tty:USB0:pn532", "udp:127.0.0.1:54321"',
    )
    poll_ms: Annotated[int, Field(ge=10, le=1000)] = 50


class SimulatedReaderConfig(_Strict):
    kind: Literal["simulated"]


ReaderConfig = Annotated[
    PcscReaderConfig | HidReaderConfig | NfcReaderConfig | SimulatedReaderConfig,
    Field(discriminator="kind"),
]


class NetworkPrinterConfig(_Strict):
    kind: Literal["network"]
    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 9100


class FilePrinterConfig(_Strict):
    kind: Literal["file"]
    path: str = "/dev/usb/lp0"


class UsbPrinterConfig(_Strict):
    kind: Literal["usb"]
    vendor_id: Annotated[int, Field(ge=0, le=0xFFFF)]
    product_id: Annotated[int, Field(ge=0, le=0xFFFF)]


class SerialPrinterConfig(_Strict):
    kind: Literal["serial"]
    device: str = "/dev/ttyUSB0"
    baudrate: Literal[9600, 19200, 38400, 115200] = 19200


class SimulatedPrinterConfig(_Strict):
    """The demo's printer: the voucher as a PNG on screen; `out_dir` also keeps each one as a file."""

    kind: Literal["simulated"]
    out_dir: str | None = None


PrinterConfig = Annotated[
    NetworkPrinterConfig
    | FilePrinterConfig
    | UsbPrinterConfig
    | SerialPrinterConfig
    | SimulatedPrinterConfig,
    Field(discriminator="kind"),
]


class HardwareConfig(_Strict):
    readers: Annotated[list[ReaderConfig], Field(min_length=1)]
    printer: PrinterConfig | None = None
    paper_mm: Literal[58, 80] = 80
    printer_profile: str = "TM-T88V"


def build_reader(
    cfg: PcscReaderConfig | HidReaderConfig | NfcReaderConfig | SimulatedReaderConfig,
) -> CardReader:
    if isinstance(cfg, PcscReaderConfig):
        from kiosk.hardware.pcsc import PcscReader

        return PcscReader(reader_pattern=cfg.reader_pattern, poll_seconds=cfg.poll_ms / 1000)
    if isinstance(cfg, HidReaderConfig):
        from kiosk.hardware.hid import HidReader

        return HidReader(cfg.device, cfg.format, cfg.reverse)
    if isinstance(cfg, NfcReaderConfig):
        from kiosk.hardware.nfc import NfcReader

        return NfcReader(cfg.device, poll_seconds=cfg.poll_ms / 1000)
    return SimulatedReader()


def build_printer(config: HardwareConfig) -> ReceiptPrinter | None:
    """The configured printer. python-escpos backends are imported and opened on the first job (the
    printer's first state poll), not here: the kiosk draws its first screen without them."""
    cfg, profile = config.printer, config.printer_profile
    if cfg is None:
        return None
    if isinstance(cfg, SimulatedPrinterConfig):
        from kiosk.hardware.simulated_printer import SimulatedPrinter

        return SimulatedPrinter(Path(cfg.out_dir) if cfg.out_dir else None)
    if isinstance(cfg, NetworkPrinterConfig):
        return EscposReceiptPrinter(f"{cfg.host}:{cfg.port}", lambda: _network(cfg, profile), config.paper_mm)
    if isinstance(cfg, FilePrinterConfig):
        return EscposReceiptPrinter(cfg.path, lambda: _file(cfg, profile), config.paper_mm, False)
    if isinstance(cfg, UsbPrinterConfig):
        return EscposReceiptPrinter(
            f"usb {cfg.vendor_id:04x}:{cfg.product_id:04x}", lambda: _usb(cfg, profile), config.paper_mm
        )
    return EscposReceiptPrinter(cfg.device, lambda: _serial(cfg, profile), config.paper_mm)


def _network(cfg: NetworkPrinterConfig, profile: str) -> Escpos:
    from escpos.printer import Network

    return Network(cfg.host, cfg.port, timeout=5, profile=profile)


def _file(cfg: FilePrinterConfig, profile: str) -> Escpos:
    from escpos.printer import File

    return File(cfg.path, profile=profile)


def _usb(cfg: UsbPrinterConfig, profile: str) -> Escpos:
    from escpos.printer import Usb

    return Usb(cfg.vendor_id, cfg.product_id, profile=profile)


def _serial(cfg: SerialPrinterConfig, profile: str) -> Escpos:
    from escpos.printer import Serial

    return Serial(cfg.device, baudrate=cfg.baudrate, profile=profile)
