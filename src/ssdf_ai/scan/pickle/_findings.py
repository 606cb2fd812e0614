"""Turn a :class:`PickleAnalysis` into findings under the scanner's rules."""

from __future__ import annotations

import dataclasses

from ssdf_ai.findings import Confidence, Finding
from ssdf_ai.scan import rules
from ssdf_ai.scan.pickle.machine import GlobalUse, PickleAnalysis
from ssdf_ai.scan.pickle.policy import (
    DYNAMIC_MODULE,
    EXTENSION_MODULE,
    Policy,
    VerdictKind,
    default_policy,
)

_DANGEROUS_FIX = (
    "Do not load this file with pickle, torch.load, joblib.load or any pickle-based loader. "
    "Obtain the model from a trusted source in a format that cannot run code (safetensors)."
)
_UNKNOWN_FIX = (
    "Check that this global is expected in the artifact and only rebuilds data; if so, add it "
    "to the pickle allowlist. Otherwise do not load the file."
)
_UNPARSEABLE_FIX = (
    "Treat the file as not scanned: what follows the break was not checked, yet a lenient "
    "loader may still run it. Re-export the artifact from a trusted source."
)


@dataclasses.dataclass
class _Group:
    first: GlobalUse
    count: int = 1
    called: GlobalUse | None = None


def pickle_findings(
    analysis: PickleAnalysis,
    *,
    path: str | None,
    member: str | None = None,
    base_offset: int = 0,
    policy: Policy | None = None,
) -> list[Finding]:
    """Report an analysis as findings.

    One finding per dangerous (``SSDF-SCAN-001``, critical) or unknown (``SSDF-SCAN-002``,
    medium) global per pickle stream, uses of the same global grouped with a count and the
    first offset; one ``SSDF-SCAN-003`` (high) when the stream broke; and the findings of
    nested pickles, with offsets in the outer bytes. Allowlisted globals give no finding.

    Args:
        analysis: What :func:`~ssdf_ai.scan.pickle.analyze` returned.
        path: The scanned file, relative to where the scan started.
        member: The archive member the pickle came from (``archive/data.pkl``), if any.
        base_offset: Where the analysed bytes start in what ``member`` (or ``path``) names.
        policy: The policy to judge globals by; the shipped one by default.

    Returns:
        The findings, in stream order.
    """
    out: list[Finding] = []
    _collect(analysis, path, member, base_offset, policy or default_policy(), "", out)
    return out


def _collect(
    analysis: PickleAnalysis,
    path: str | None,
    member: str | None,
    base: int,
    policy: Policy,
    context: str,
    out: list[Finding],
) -> None:
    groups: dict[tuple[int, str, str], _Group] = {}
    for use in analysis.globals:
        key = (use.stream, use.module, use.name)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(first=use)
        else:
            group.count += 1
        if use.called and group.called is None:
            group.called = use
    where = f" member {member}" if member else ""
    for group in groups.values():
        use = group.first
        verdict = policy.classify(use.module, use.name)
        if verdict.kind is VerdictKind.SAFE:
            continue
        shown = group.called or use
        offset = base + use.offset
        label = _label(use)
        action = "calls" if group.called else "imports"
        message = (
            f"{context}Pickle{where} {action} {label} at offset {offset}"
            f" ({use.opcode}): {verdict.reason}."
        )
        if shown.chain and shown.chain != label:
            message += f" Call chain: {shown.chain}."
        if group.count > 1:
            message += f" Used {group.count} times in this pickle; the first is reported."
        if analysis.streams > 1:
            message += f" (pickle {use.stream + 1} of {analysis.streams} in the data)"
        dangerous = verdict.kind is VerdictKind.DANGEROUS
        out.append(
            rules.finding(
                rules.DANGEROUS_GLOBAL if dangerous else rules.UNKNOWN_GLOBAL,
                message,
                path=path,
                address=_address(member, offset),
                confidence=Confidence.HIGH if dangerous or group.called else Confidence.MEDIUM,
                remediation=_DANGEROUS_FIX if dangerous else _UNKNOWN_FIX,
            )
        )
    if analysis.error is not None:
        offset = base + (analysis.error_offset or 0)
        out.append(
            rules.finding(
                rules.UNPARSEABLE,
                f"{context}Pickle{where} could not be read past offset {offset}: "
                f"{analysis.error}. Content after it was not analysed.",
                path=path,
                address=_address(member, offset),
                remediation=_UNPARSEABLE_FIX,
            )
        )
    for nested_offset, nested in analysis.nested:
        at = base + nested_offset
        _collect(
            nested,
            path,
            member,
            at,
            policy,
            f"{context}In a pickle nested at offset {at}: ",
            out,
        )


def _label(use: GlobalUse) -> str:
    if use.module == DYNAMIC_MODULE:
        return f"a global computed while loading ({use.name})"
    if use.module == EXTENSION_MODULE:
        return f"the global behind extension code {use.name}"
    return use.qualified


def _address(member: str | None, offset: int) -> str:
    return f"member {member}, offset {offset}" if member else f"offset {offset}"
