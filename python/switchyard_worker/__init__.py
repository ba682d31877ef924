"""Switchyard's Python pool worker: verifies run envelopes and runs Python graphs from a BullMQ queue.

Public names: canonical_json, verify_envelope, parse_envelope, sign_envelope,
canonical_envelope, SwitchyardError. The worker itself: ``python3 -m switchyard_worker``.
"""

from .canonical import canonical_json, js_number
from .envelope import canonical_envelope, parse_envelope, sign_envelope, verify_envelope
from .errors import SwitchyardError

__all__ = [
    "SwitchyardError",
    "canonical_envelope",
    "canonical_json",
    "js_number",
    "parse_envelope",
    "sign_envelope",
    "verify_envelope",
]
