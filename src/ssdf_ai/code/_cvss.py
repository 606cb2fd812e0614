"""CVSS v3 base scores from vector strings, for advisories that carry a vector but no rating.

The formula is the one in the CVSS v3.1 specification, section 7.1 (base metrics), with the
``Roundup`` of appendix A; v3.0 vectors are scored the same way (the two differ only in that
rounding, by at most 0.1).
"""

from __future__ import annotations

import math

from ssdf_ai.findings import Severity

_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
# Privileges required weigh more when the scope changes (spec section 7.4).
_PR = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}
_REQUIRED = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")
MAX_VECTOR = 200


def _roundup(value: float) -> float:
    """CVSS v3.1 appendix A: the smallest one-decimal number >= value, without float noise."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000.0
    return (math.floor(scaled / 10_000) + 1) / 10.0


def base_score(vector: str) -> float | None:
    """The CVSS v3 base score of ``vector`` (``CVSS:3.1/AV:N/AC:L/...``), or ``None`` when it
    is not a complete, valid v3 vector."""
    if not isinstance(vector, str) or len(vector) > MAX_VECTOR:
        return None
    parts = vector.strip().split("/")
    if not parts or parts[0] not in ("CVSS:3.0", "CVSS:3.1"):
        return None
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, value = part.partition(":")
        if not sep or key in metrics:
            return None
        metrics[key] = value
    if any(key not in metrics for key in _REQUIRED):
        return None
    scope = metrics["S"]
    if scope not in _PR:
        return None
    try:
        av, ac, ui = (_WEIGHTS[k][metrics[k]] for k in ("AV", "AC", "UI"))
        c, i, a = (_WEIGHTS[k][metrics[k]] for k in ("C", "I", "A"))
        pr = _PR[scope][metrics["PR"]]
    except KeyError:
        return None
    iss = 1 - (1 - c) * (1 - i) * (1 - a)
    # Spec section 7.1: a changed scope weighs impact by a different curve.
    impact = 6.42 * iss if scope == "U" else 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    exploitability = 8.22 * av * ac * pr * ui
    if impact <= 0:
        return 0.0
    if scope == "U":
        return _roundup(min(impact + exploitability, 10))
    return _roundup(min(1.08 * (impact + exploitability), 10))


def score_severity(score: float) -> Severity:
    """The qualitative rating of a CVSS v3 score (spec section 5), as our :class:`Severity`."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO
