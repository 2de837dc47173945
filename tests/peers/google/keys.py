"""Throwaway service-account keys whose tokens come from the peer."""

from __future__ import annotations

from functools import lru_cache


@lru_cache
def _private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def service_account_info(token_uri: str) -> dict[str, str]:
    """A throwaway service-account key (fresh RSA key, once per process) whose tokens come from `token_uri`."""
    return {
        "type": "service_account",
        "project_id": "learningday-test",
        "private_key_id": "peer-key-1",
        "private_key": _private_key_pem(),
        "client_email": "learningday@learningday-test.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "token_uri": token_uri,
    }
