"""Variable names that hold secrets: a table, no guessing beyond it.

Data, not code. A name is a secret when one of its ``_``-separated parts (compared upper-case)
is in ``SECRET_PARTS``, or two adjacent parts form one of ``SECRET_PAIRS``. ``KEY`` alone is
not enough (``GPG_KEY`` in the official images is a public key fingerprint).
"""

from __future__ import annotations

SECRET_PARTS = frozenset(
    "TOKEN TOKENS PASSWORD PASSWD PASSPHRASE SECRET SECRETS CREDENTIALS APIKEY PAT".split()
)
SECRET_PAIRS = frozenset(
    {("API", "KEY"), ("ACCESS", "KEY"), ("PRIVATE", "KEY"), ("AUTH", "KEY"), ("CLIENT", "KEY")}
)


def is_secret_name(name: str) -> bool:
    """True when ``name`` looks like it holds a secret (``NPM_TOKEN``, ``PIP_PASSWORD``)."""
    parts = name.upper().split("_")
    if any(p in SECRET_PARTS for p in parts):
        return True
    return any(pair in SECRET_PAIRS for pair in zip(parts, parts[1:], strict=False))
