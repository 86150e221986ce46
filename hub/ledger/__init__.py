"""The authoritative ledger: append-only events and postings in SQLite, a members projection."""

from hub.ledger.check import check_ledger, fold_postings
from hub.ledger.clock import HubClock, iso, parse_iso
from hub.ledger.ledger import Applied, DirectRequest, Ledger
from hub.ledger.schema import SCHEMA_VERSION, LedgerOpenError, open_database
from hub.ledger.vouchers import VoucherCheck, check_voucher, use_voucher

__all__ = [
    "SCHEMA_VERSION",
    "Applied",
    "DirectRequest",
    "HubClock",
    "Ledger",
    "LedgerOpenError",
    "VoucherCheck",
    "check_ledger",
    "check_voucher",
    "fold_postings",
    "iso",
    "open_database",
    "parse_iso",
    "use_voucher",
]
