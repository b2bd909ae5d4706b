"""``msdfix verify``: build the original and the rewritten Dockerfile and compare them.

For each variant: cold build (no layer cache, empty cache mounts), image size and layer count,
warm rebuild after editing one source file (in a private copy of the context), image config,
and optional smoke checks. Exit codes: 0 pass, 1 the rewritten image fails a check or regresses
beyond the tolerances, 2 Docker unavailable / usage, 123 internal error.
"""

from __future__ import annotations

from msdfix.verify.command import verify_command
from msdfix.verify.run import VerifyOptions, image_name, run_verify
from msdfix.verify.tolerance import Tolerances

__all__ = ["Tolerances", "VerifyOptions", "image_name", "run_verify", "verify_command"]
