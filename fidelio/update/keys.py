"""Release signing keys: Ed25519 (the `cryptography` package, already the hub's TLS library).

The project's release key signs every bundle's manifest; devices trust the public keys found in one
directory (`/etc/fidelio/release-keys/*.pub` on the image). A public key file is one line,
`ed25519 <base64 of the 32 raw bytes> [comment]`, so it can be read, compared and pasted by hand.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fidelio.update.errors import UpdateError

DEFAULT_KEYS_DIR = Path("/etc/fidelio/release-keys")


@dataclass(frozen=True)
class TrustedKey:
    key_id: str
    public: Ed25519PublicKey
    source: Path


def key_id(public: Ed25519PublicKey) -> str:
    """The first 16 hex digits of SHA-256 over the raw public key: names the key in manifests and logs."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_line(public: Ed25519PublicKey, comment: str = "") -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"ed25519 {base64.b64encode(raw).decode()} {comment}".rstrip() + "\n"


def generate_key(private_path: Path, comment: str = "fidelio-release") -> Path:
    """A new key pair: the private key as PKCS#8 PEM (0600, never overwritten), the public one beside it."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public_path = private_path.with_name(private_path.name + ".pub")
    public_path.write_text(public_line(private.public_key(), comment), encoding="ascii")
    return public_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise UpdateError(
            "bad_key",
            f"Clé de signature illisible : {path} ({exc})",
            f"Unreadable signing key: {path} ({exc})",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise UpdateError("bad_key", f"{path} n'est pas une clé Ed25519", f"{path} is not an Ed25519 key")
    return key


def parse_public_line(text: str, source: Path) -> TrustedKey:
    parts = text.split()
    try:
        if len(parts) < 2 or parts[0] != "ed25519":
            raise ValueError("expected 'ed25519 <base64>'")
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(parts[1], validate=True))
    except ValueError as exc:
        raise UpdateError(
            "bad_key",
            f"Clé publique illisible : {source} ({exc})",
            f"Unreadable public key: {source} ({exc})",
        ) from exc
    return TrustedKey(key_id(public), public, source)


def load_trusted_keys(directory: Path) -> list[TrustedKey]:
    """Every `*.pub` in `directory`; none at all is an error (nothing could ever be installed)."""
    files = sorted(directory.glob("*.pub")) if directory.is_dir() else []
    keys = [parse_public_line(path.read_text(encoding="ascii"), path) for path in files]
    if not keys:
        raise UpdateError(
            "no_trusted_key",
            f"Aucune clé de publication de confiance dans {directory}",
            f"No trusted release key in {directory}",
        )
    return keys


def verify_signature(keys: list[TrustedKey], wanted_id: str, message: bytes, signature: bytes) -> TrustedKey:
    for key in keys:
        if key.key_id != wanted_id:
            continue
        try:
            key.public.verify(signature, message)
        except InvalidSignature:
            break
        return key
    raise UpdateError(
        "untrusted",
        "Mise à jour refusée : elle n'est pas signée par une clé de confiance",
        "Update refused: it is not signed by a trusted key",
    )
