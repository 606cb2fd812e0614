"""The SP 800-218A practice and task ids that configuration may refer to.

Kept here as data, not loaded from the profile package, so that reading a configuration never
depends on the catalog loader. A test compares these tuples with the profile YAML, so they
cannot drift from it unnoticed.
"""

from __future__ import annotations

# NIST SP 800-218A (July 2024), Table 1: the 20 practices.
PRACTICE_IDS: tuple[str, ...] = (
    "PO.1", "PO.2", "PO.3", "PO.4", "PO.5",
    "PS.1", "PS.2", "PS.3",
    "PW.1", "PW.2", "PW.3", "PW.4", "PW.5", "PW.6", "PW.7", "PW.8", "PW.9",
    "RV.1", "RV.2", "RV.3",
)  # fmt: skip

# The 48 tasks. There is no PW.4.3: SSDF 1.1 moved it into PW.4.1 and the profile keeps the gap.
TASK_IDS: tuple[str, ...] = (
    "PO.1.1", "PO.1.2", "PO.1.3",
    "PO.2.1", "PO.2.2", "PO.2.3",
    "PO.3.1", "PO.3.2", "PO.3.3",
    "PO.4.1", "PO.4.2",
    "PO.5.1", "PO.5.2", "PO.5.3",
    "PS.1.1", "PS.1.2", "PS.1.3",
    "PS.2.1",
    "PS.3.1", "PS.3.2",
    "PW.1.1", "PW.1.2", "PW.1.3",
    "PW.2.1",
    "PW.3.1", "PW.3.2", "PW.3.3",
    "PW.4.1", "PW.4.2", "PW.4.4",
    "PW.5.1",
    "PW.6.1", "PW.6.2",
    "PW.7.1", "PW.7.2",
    "PW.8.1", "PW.8.2",
    "PW.9.1", "PW.9.2",
    "RV.1.1", "RV.1.2", "RV.1.3",
    "RV.2.1", "RV.2.2",
    "RV.3.1", "RV.3.2", "RV.3.3", "RV.3.4",
)  # fmt: skip

KNOWN_IDS: frozenset[str] = frozenset(PRACTICE_IDS + TASK_IDS)
