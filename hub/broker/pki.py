"""The shop's own certificate authority and the broker's server certificate (EC P-256).

Kiosks trust only this CA (shipped in their provisioning file), so nothing here depends on a public CA.
`not_valid_before` is back-dated: a kiosk without a battery-backed clock may boot with a date from before
the hub was set up (fake-hwclock restores the image's build date), and TLS would reject a certificate
"not yet valid" even though kiosk time never decides anything else (DESIGN §6).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .settings import valid_host

CA_VALIDITY = timedelta(days=20 * 365 + 5)
SERVER_VALIDITY = timedelta(days=10 * 365 + 2)
BACKDATE = timedelta(days=365)


@dataclass(frozen=True)
class KeyPair:
    """A PEM private key (PKCS#8, unencrypted: its file mode protects it) and its PEM certificate."""

    key_pem: bytes
    cert_pem: bytes


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def create_ca(shop: str, *, now: datetime | None = None) -> KeyPair:
    """A self-signed CA that can only sign end-entity certificates (path length 0)."""
    now = now or datetime.now(UTC)
    key = _new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fidelio"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Fidelio {shop} CA"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(_key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def server_names(mqtt_host: str, hostname: str | None = None) -> list[str]:
    """The names the broker certificate covers: the kiosks' host name, loopback, this machine's name."""
    hostname = socket.gethostname() if hostname is None else hostname
    names = [mqtt_host, "localhost", "127.0.0.1", "::1"]
    if hostname and valid_host(hostname):
        names.append(hostname)
        if "." not in hostname:
            names.append(f"{hostname}.local")  # mDNS (avahi) name, what a LAN without DNS offers
    unique: list[str] = []
    for name in names:
        if name.lower() not in (u.lower() for u in unique):
            unique.append(name)
    return unique


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name.rstrip(".").lower())


def create_server_cert(ca: KeyPair, names: list[str], *, now: datetime | None = None) -> KeyPair:
    """A TLS server certificate for the broker, signed by the shop CA; `names[0]` is also its CN."""
    now = now or datetime.now(UTC)
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = _new_key()
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + SERVER_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return KeyPair(_key_pem(key), cert.public_bytes(serialization.Encoding.PEM))
