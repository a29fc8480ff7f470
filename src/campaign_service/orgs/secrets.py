"""Encryption at rest of the provider keys orgs give us (Fernet under a master key).

CAMPAIGN_SERVICE_SECRET_KEYS holds comma-separated Fernet keys: the first encrypts, every one
decrypts. To rotate: put a new key first, run `campaign-service secrets rotate` (re-encrypts
every stored key with it), then drop the old key.
"""

from __future__ import annotations

import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from campaign_service.errors import AppError

SETTING = "CAMPAIGN_SERVICE_SECRET_KEYS"
NO_MASTER_KEY = (
    f"no master key to encrypt secrets with: set {SETTING} to a Fernet key "
    "(make one with `campaign-service secrets new-key`)"
)


class SecretsError(AppError):
    """The master keys are missing or wrong, or a stored secret cannot be read with them."""


def fingerprint(secret: str) -> str:
    """What may be shown instead of a secret: the first 8 hex digits of its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


def new_master_key() -> str:
    return Fernet.generate_key().decode()


class KeyRing:
    """The configured master keys."""

    def __init__(self, keys: list[Fernet]) -> None:
        self._fernet = MultiFernet(keys)
        self.size = len(keys)

    @classmethod
    def from_setting(cls, value: SecretStr | None) -> KeyRing:
        """Raises SecretsError (without echoing the value) if unset or malformed."""
        entries = [e.strip() for e in (value.get_secret_value() if value else "").split(",")]
        entries = [e for e in entries if e]
        if not entries:
            raise SecretsError(NO_MASTER_KEY)
        keys = []
        for position, entry in enumerate(entries, start=1):
            try:
                keys.append(Fernet(entry))
            except ValueError:
                raise SecretsError(
                    f"{SETTING}: key {position} is not a Fernet key "
                    "(32 url-safe base64-encoded bytes)"
                ) from None
        return cls(keys)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretsError(_UNREADABLE) from None

    def rotate(self, token: str) -> str:
        """The same secret, encrypted with the first (newest) key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise SecretsError(_UNREADABLE) from None


_UNREADABLE = (
    f"a stored secret cannot be decrypted with {SETTING} "
    "(was the key that encrypted it removed before `secrets rotate`?)"
)
