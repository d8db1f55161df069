"""Password hashing with :func:`hashlib.scrypt` (salted; parameters stored with the hash).

Stored form: ``scrypt$<n>$<r>$<p>$<salt base64>$<key base64>``.  A hash that
does not parse (e.g. ``"!"`` for the system reader) never verifies, so that
account cannot log in or sign.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

#: Cost parameters for new hashes (RFC 7914 interactive-login recommendation).
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_KEY_LENGTH = 32
_SALT_LENGTH = 16
#: Marker stored for accounts that must never authenticate.
DISABLED = "!"


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """Return the storable scrypt hash of ``password`` with a fresh random salt.

    Parameters
    ----------
    password
        The clear-text password; must not be empty.
    n, r, p
        scrypt cost parameters, stored with the hash.

    Returns
    -------
    str
        ``scrypt$n$r$p$salt$key`` with base64 salt and key.

    Raises
    ------
    ValueError
        If the password is empty.
    """
    if not password:
        raise ValueError("password must not be empty")
    salt = os.urandom(_SALT_LENGTH)
    key = _derive(password, salt, n, r, p)
    encode = base64.b64encode
    return f"scrypt${n}${r}${p}${encode(salt).decode()}${encode(key).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches ``stored`` (constant-time compare); False for any bad hash."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or not password:
        return False
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
        key = _derive(password, salt, n, r, p, len(expected))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(key, expected)


def _derive(password: str, salt: bytes, n: int, r: int, p: int, length: int = _KEY_LENGTH) -> bytes:
    """scrypt key derivation with a memory limit large enough for the stored parameters."""
    maxmem = 2 * 128 * r * (n + p + 2) + 1024 * 1024
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=length
    )
