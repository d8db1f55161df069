"""Passwords and signing keys: one Argon2id derivation at a cost fixed in this code.

Every password goes through Argon2id (RFC 9106) with the cost OWASP recommends
for password storage (19 MiB, 2 passes, 1 lane).  The cost is a constant here and
is **never read from the database**: someone who can write the database cannot
make Caliper check a password at a lower cost.  One derivation gives 64 bytes:

* the first 32 are the *verifier* stored in ``reader.password_hash``
  (``argon2id$<salt>$<verifier>``, base64) and compared at log-in;
* the last 32 are the *key-encryption key* of the reader's Ed25519 private
  signing key, stored AES-256-GCM-encrypted in ``reader.signing_key``
  (``aesgcm$<nonce>$<ciphertext>``) with the public key as associated data, so
  the private key can only be used by someone who knows the password, and an
  encrypted key moved to another public key does not decrypt.

A verifier that does not parse (e.g. ``"!"`` for the system reader) never
verifies, so that account cannot log in or sign.  Hashes written before this
scheme (``scrypt$16384$8$1$...``) are checked at exactly that cost, whatever
parameters the stored value names, and replaced at the next log-in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

#: Argon2id cost (OWASP Password Storage Cheat Sheet, first recommendation); fixed in code.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PARALLELISM = 1
_SALT_LENGTH = 16
_NONCE_LENGTH = 12
#: Marker stored for accounts that must never authenticate.
DISABLED = "!"
_PREFIX = "argon2id$"
_KEY_PREFIX = "aesgcm$"
#: The only cost at which a hash of the earlier scheme is still checked (then upgraded).
_LEGACY_SCRYPT = ("16384", "8", "1")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _derive(password: str, salt: bytes) -> tuple[bytes, bytes]:
    """(verifier, key-encryption key) of ``password`` with ``salt`` at the fixed cost."""
    out = hash_secret_raw(
        password.encode("utf-8", "surrogatepass"),
        salt,
        time_cost=ARGON2_TIME_COST,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
        hash_len=64,
        type=Type.ID,
    )
    return out[:32], out[32:]


@dataclass(frozen=True, slots=True)
class Credentials:
    """What is stored for a reader with a password: verifier, public key, encrypted private key."""

    password_hash: str
    public_key: str
    signing_key: str


def public_key_text(key: Ed25519PublicKey) -> str:
    """The stored form of a public key: base64 of its 32 raw bytes."""
    return _b64(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def new_credentials(password: str, private_key: Ed25519PrivateKey | None = None) -> Credentials:
    """Derive a fresh verifier; encrypt ``private_key`` (a new key pair if None) under ``password``.

    Raises
    ------
    ValueError
        If the password is empty.
    """
    if not password:
        raise ValueError("password must not be empty")
    key = private_key or Ed25519PrivateKey.generate()
    salt, nonce = os.urandom(_SALT_LENGTH), os.urandom(_NONCE_LENGTH)
    verifier, kek = _derive(password, salt)
    public = public_key_text(key.public_key())
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    sealed = AESGCM(kek).encrypt(nonce, raw, _aad(public))
    return Credentials(
        password_hash=f"{_PREFIX}{_b64(salt)}${_b64(verifier)}",
        public_key=public,
        signing_key=f"{_KEY_PREFIX}{_b64(nonce)}${_b64(sealed)}",
    )


def hash_password(password: str) -> str:
    """The stored verifier of ``password`` (fresh salt); see :func:`new_credentials`."""
    return new_credentials(password).password_hash


def _aad(public_key: str) -> bytes:
    return b"caliper-signing-key/1|" + public_key.encode("ascii")


@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome of :func:`check_password` for a right password."""

    legacy: bool  # a hash of the earlier scheme: replace it now that the password is known
    kek: bytes | None  # the key-encryption key (None for a legacy hash)


def check_password(password: str, stored: str) -> Checked | None:
    """Check ``password`` against a stored verifier (constant-time); None if wrong or unusable."""
    if not password or not stored:
        return None
    if stored.startswith(_PREFIX):
        parts = stored[len(_PREFIX) :].split("$")
        try:
            salt, expected = _unb64(parts[0]), _unb64(parts[1])
        except (IndexError, ValueError, binascii.Error):
            return None
        if len(parts) != 2 or len(salt) != _SALT_LENGTH or len(expected) != 32:
            return None
        verifier, kek = _derive(password, salt)
        return Checked(False, kek) if hmac.compare_digest(verifier, expected) else None
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or tuple(parts[1:4]) != _LEGACY_SCRYPT:
        return None
    try:
        salt, expected = _unb64(parts[4]), _unb64(parts[5])
        key = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=16384,
            r=8,
            p=1,
            maxmem=32 * 1024 * 1024,
            dklen=len(expected),
        )
    except (ValueError, binascii.Error):
        return None
    return Checked(True, None) if hmac.compare_digest(key, expected) else None


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches ``stored``; False for any bad or disabled hash."""
    return check_password(password, stored) is not None


def unlock_private_key(kek: bytes, public_key: str, signing_key: str) -> Ed25519PrivateKey | None:
    """Decrypt a stored private key; None if it does not decrypt or match ``public_key``."""
    if not signing_key.startswith(_KEY_PREFIX):
        return None
    try:
        nonce_text, sealed_text = signing_key[len(_KEY_PREFIX) :].split("$")
        raw = AESGCM(kek).decrypt(_unb64(nonce_text), _unb64(sealed_text), _aad(public_key))
        key = Ed25519PrivateKey.from_private_bytes(raw)
    except (ValueError, InvalidTag, binascii.Error):
        return None
    return key if public_key_text(key.public_key()) == public_key else None


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    """Ed25519 signature of ``message``, base64."""
    return _b64(key.sign(message))


def signature_valid(public_key: str, signature: str, message: bytes) -> bool:
    """True if ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``.

    The signature and the public key are base64 text.
    """
    try:
        Ed25519PublicKey.from_public_bytes(_unb64(public_key)).verify(_unb64(signature), message)
    except (ValueError, InvalidSignature, binascii.Error, TypeError):
        return False
    return True
