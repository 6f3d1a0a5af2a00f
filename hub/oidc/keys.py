"""The RSA key that signs ID tokens.

Production passes it in ``OIDC_RSA_PRIVATE_KEY`` (PEM); otherwise one is generated once
under ``VAR_DIR`` and kept, so tokens stay valid across restarts of a development or
single-machine installation.
"""

from __future__ import annotations

import os
from pathlib import Path


def load_or_create_private_key(var_dir: Path) -> str:
    pem = os.environ.get("OIDC_RSA_PRIVATE_KEY", "").strip()
    if pem:
        return pem.replace("\\n", "\n")
    path = var_dir / "oidc-private-key.pem"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        data = key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )
        path.write_bytes(data)
        path.chmod(0o600)
    return path.read_text()
