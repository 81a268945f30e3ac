"""A certificate authority and a server certificate made at run time, for the lab's test host names.

Nothing is written outside a temporary folder and nothing is trusted system-wide: Chromium is told to
accept this one key by its SPKI hash (`--ignore-certificate-errors-spki-list`), so https pages on
bank.test and evil.test are secure contexts, as `Secure` cookies need.
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

LAB_HOSTS = ("bank.test", "*.bank.test", "evil.test", "*.evil.test", "front.test", "localhost", "127.0.0.1")


@dataclass(frozen=True)
class LabCertificate:
    folder: Path
    cert_file: Path  # PEM chain: the server certificate, then the CA
    key_file: Path  # PEM private key
    spki_sha256: str  # base64 SHA-256 of the server's public key, for Chromium's SPKI allow list


def create_certificate(hosts: tuple[str, ...] = LAB_HOSTS) -> LabCertificate:
    """A fresh CA and a certificate for `hosts`, in a new temporary folder."""
    authority = trustme.CA()
    server = authority.issue_cert(*hosts)
    folder = Path(tempfile.mkdtemp(prefix="authcourse-lab-"))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    server.private_key_pem.write_to_path(str(key_file))
    chain = b"".join(blob.bytes() for blob in server.cert_chain_pems)
    cert_file.write_bytes(chain)
    certificate = x509.load_pem_x509_certificate(server.cert_chain_pems[0].bytes())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return LabCertificate(folder, cert_file, key_file, base64.b64encode(hashlib.sha256(spki).digest()).decode())
