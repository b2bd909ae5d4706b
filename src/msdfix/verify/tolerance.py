"""How much larger or slower the rewritten image may be before ``msdfix verify`` fails it.

Image sizes are deterministic for the same inputs, so the size tolerance is small (1%: the
rewrite may add a few files such as a copied entrypoint script). Build times are noisy: a warm
rebuild may take 10% longer plus 1.5 s (BuildKit's fixed cost of loading the context and
exporting the image varies by about a second on a busy machine). A warm-rebuild regression is
measured twice before it fails.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

_WARM_SPEC = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*(?:\+\s*(\d+(?:\.\d+)?)\s*s\s*)?$")


@dataclass(frozen=True)
class Tolerances:
    """Allowed growth of the rewritten image over the original."""

    size_pct: float = 1.0
    warm_pct: float = 10.0
    warm_seconds: float = 1.5

    def size_limit(self, original: int) -> float:
        """Largest acceptable size in bytes of the rewritten image."""
        return original * (1 + self.size_pct / 100)

    def warm_limit(self, original: float) -> float:
        """Slowest acceptable warm rebuild of the rewritten image, in seconds."""
        return original * (1 + self.warm_pct / 100) + self.warm_seconds

    def describe(self) -> str:
        """``size +1%, warm rebuild +10% +1.5s``."""
        return f"size +{self.size_pct:g}%, warm rebuild +{self.warm_pct:g}% +{self.warm_seconds:g}s"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_percent(value: str) -> float:
    """``"1"`` or ``"1%"`` -> 1.0 (a non-negative percentage)."""
    try:
        number = float(value.strip().removesuffix("%"))
    except ValueError:
        raise ValueError(f"expected a percentage such as 1 or 1%, got {value!r}") from None
    if not math.isfinite(number):  # float() takes "nan": no size could then fail the check
        raise ValueError(f"expected a finite percentage, got {value!r}")
    if number < 0:
        raise ValueError(f"a tolerance cannot be negative: {value!r}")
    return number


def parse_warm(value: str) -> tuple[float, float]:
    """``"10%+1.5s"`` -> (10.0, 1.5); ``"10%"`` -> (10.0, 0.0)."""
    match = _WARM_SPEC.match(value)
    if not match:
        raise ValueError(f"expected PCT% or PCT%+SECONDSs such as 10%+1.5s, got {value!r}")
    return float(match.group(1)), float(match.group(2) or 0)
