"""What the schema names but cannot generate by itself: Ed25519 public keys.

A random 32 bytes is a point on the curve only about half the time; the cloud
refuses the rest, as it must. Loaded through SCHEMATHESIS_HOOKS=hooks.
"""

import base64
import sys

import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import strategies as st


# Hypothesis describes a failing strategy by parsing source; on Python 3.11 the
# default limit can break that walk with "AST constructor recursion depth
# mismatch", a tool error rather than a finding.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))


def _public_key(seed: bytes) -> str:
    raw = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


schemathesis.openapi.format(
    "ed25519-public-key", st.binary(min_size=32, max_size=32).map(_public_key)
)
