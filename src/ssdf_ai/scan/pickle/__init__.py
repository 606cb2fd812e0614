"""Pickle analysis: a symbolic pickle machine and the policy that judges what it reaches.

Nothing here unpickles, imports or evaluates the content under analysis.

- :func:`analyze` runs a byte string's pickle opcodes symbolically and returns a
  :class:`PickleAnalysis`: every :class:`GlobalUse` (module, name, offset, whether it is
  called, its call chain), how many pickles the bytes hold, where a malformed stream broke,
  and pickles nested in byte strings that the stream hands to a pickle loader.
- :func:`classify` judges one global against the policy (``policy.toml``): a :class:`Verdict`
  of kind safe, dangerous or unknown, with the reason.
- :func:`pickle_findings` turns an analysis into findings: ``SSDF-SCAN-001`` (critical) per
  dangerous global, ``SSDF-SCAN-002`` (medium) per global off the allowlist, ``SSDF-SCAN-003``
  (high) when the stream could not be read to its end.

Example::

    analysis = analyze(data)
    for finding in pickle_findings(analysis, path="model.pt", member="archive/data.pkl"):
        ...
"""

from __future__ import annotations

from ssdf_ai.scan.pickle._findings import pickle_findings
from ssdf_ai.scan.pickle.machine import GlobalUse, PickleAnalysis, analyze
from ssdf_ai.scan.pickle.policy import Policy, Verdict, VerdictKind, classify, default_policy

__all__ = [
    "GlobalUse",
    "PickleAnalysis",
    "Policy",
    "Verdict",
    "VerdictKind",
    "analyze",
    "classify",
    "default_policy",
    "pickle_findings",
]
