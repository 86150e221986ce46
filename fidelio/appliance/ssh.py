"""Maintenance access over SSH: off unless the installer puts the maintainers' public keys on the boot
partition (`authorized_keys`, OpenSSH's own format), and then keys only, for one account only.

Parsed here (pure): each line `TYPE BASE64 [comment]`, the key blob decoded and checked against its
type (Ed25519, ECDSA, security keys, RSA of at least 3072 bits); options before the type (`command=`,
`from=`…) are refused rather than half-understood. An empty file turns SSH off again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

#: the image's admin account (pi-gen's first user): its password is locked, keys are its only way in
ADMIN_USER = "fidelio-admin"
MAX_KEYS = 20
MIN_RSA_BITS = 3072
_ED25519 = ("ssh-ed25519", "sk-ssh-ed25519@openssh.com")
_ECDSA = {
    "ecdsa-sha2-nistp256": "nistp256",
    "ecdsa-sha2-nistp384": "nistp384",
    "ecdsa-sha2-nistp521": "nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com": "nistp256",
}

#: sshd's drop-in (Debian's sshd_config includes sshd_config.d/*.conf first: these win)
SSHD_DROPIN = f"""# Fidelio first boot (fidelio/appliance/ssh.py): keys only, the maintenance account only.
AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AuthenticationMethods publickey
AllowUsers {ADMIN_USER}
X11Forwarding no
AllowTcpForwarding local
"""


class SshKeyError(ValueError):
    """A refused file, said in French and English."""


@dataclass(frozen=True)
class SshKey:
    kind: str
    blob: bytes
    comment: str = ""

    def line(self) -> str:
        text = f"{self.kind} {base64.b64encode(self.blob).decode()}"
        return f"{text} {self.comment}" if self.comment else text

    def fingerprint(self) -> str:
        """As `ssh-keygen -l` shows it: SHA256 of the blob, base64 without padding."""
        return "SHA256:" + base64.b64encode(hashlib.sha256(self.blob).digest()).decode().rstrip("=")


def _strings(blob: bytes) -> list[bytes]:
    """The SSH wire format's length-prefixed strings (RFC 4251 §5)."""
    out, at = [], 0
    while at < len(blob):
        if at + 4 > len(blob):
            raise ValueError("truncated")
        (size,) = struct.unpack(">I", blob[at : at + 4])
        at += 4
        if at + size > len(blob):
            raise ValueError("truncated")
        out.append(blob[at : at + size])
        at += size
    return out


def _check_blob(kind: str, blob: bytes) -> str | None:
    """None when the blob is a key of `kind`; else why not (English, for the message)."""
    try:
        fields = _strings(blob)
    except ValueError:
        return "the key is cut short"
    if not fields or fields[0] != kind.encode():
        return f"the key inside is not a {kind} key"
    if kind in _ED25519:
        return None if len(fields) >= 2 and len(fields[1]) == 32 else "not an Ed25519 public key"
    if kind in _ECDSA:
        return None if len(fields) >= 3 and fields[1] == _ECDSA[kind].encode() else "wrong curve"
    if kind == "ssh-rsa" and len(fields) == 3:
        bits = int.from_bytes(fields[2], "big").bit_length()
        return None if bits >= MIN_RSA_BITS else f"RSA key of {bits} bits (at least {MIN_RSA_BITS})"
    return "not a public key"


def parse_authorized_keys(text: str) -> list[SshKey]:
    """The keys of an `authorized_keys` file; [] for an empty one (SSH off). SshKeyError names the line."""
    keys: list[SshKey] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        kind = parts[0]
        allowed = (*_ED25519, *_ECDSA, "ssh-rsa")
        if kind not in allowed:
            raise SshKeyError(
                f"authorized_keys, ligne {number} : « {kind[:40]} » n'est pas un type de clé accepté "
                f"(ssh-ed25519 conseillé ; pas d'options avant la clé) / line {number}: '{kind[:40]}' is not "
                "an accepted key type (ssh-ed25519 advised; no options before the key)"
            )
        try:
            blob = base64.b64decode(parts[1], validate=True) if len(parts) > 1 else b""
        except binascii.Error:
            blob = b""
        why = _check_blob(kind, blob) if blob else "no key after the type"
        if why is not None:
            raise SshKeyError(
                f"authorized_keys, ligne {number} : clé illisible ou refusée ({why}) / "
                f"line {number}: unreadable or refused key ({why})"
            )
        keys.append(SshKey(kind, blob, parts[2].strip() if len(parts) > 2 else ""))
    if len(keys) > MAX_KEYS:
        raise SshKeyError(
            f"authorized_keys : {len(keys)} clés, {MAX_KEYS} au plus / {len(keys)} keys, at most {MAX_KEYS}"
        )
    return keys


def authorized_keys_text(keys: list[SshKey]) -> str:
    return "".join(f"{key.line()}\n" for key in keys)
