"""The wire contract between kiosks and the hub (DESIGN §3). Dependency-free, no I/O.

Both sides import this package; there is no second copy of the contract anywhere.
"""

from fidelio.contract.errors import ERROR_TEXTS, ErrorCode, error_text
from fidelio.contract.messages import (
    MAX_PAYLOAD_BYTES,
    PROTOCOL_VERSION,
    REQUEST_TYPES,
    ContractError,
    Request,
    dumps,
    error_reply,
    new_request,
    ok_reply,
    parse_request,
    uuid7,
)
from fidelio.contract.topics import Topics, parse_request_topic

__all__ = [
    "ERROR_TEXTS",
    "MAX_PAYLOAD_BYTES",
    "PROTOCOL_VERSION",
    "REQUEST_TYPES",
    "ContractError",
    "ErrorCode",
    "Request",
    "Topics",
    "dumps",
    "error_reply",
    "error_text",
    "new_request",
    "ok_reply",
    "parse_request",
    "parse_request_topic",
    "uuid7",
]
