"""Matching declared packages against the advisory database and turning what is found into
findings (the evaluation half of ``ssdf deps``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePosixPath

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ssdf_ai.code import dep_rules
from ssdf_ai.code.advisories import Advisory, AdvisoryDatabase, boundaries
from ssdf_ai.code.deps import Declarations, Package
from ssdf_ai.code.deps_report import AdvisoryMatch, DatabaseInfo, DepsReport, PackageRow
from ssdf_ai.findings import Confidence, Finding, Location, Severity

# Findings about unreadable lines beyond this many are summed up in one.
MAX_PROBLEM_FINDINGS = 200
_LOCK_NAMES = ("poetry.lock", "uv.lock", "pipfile.lock", "pylock.toml")


def _finding(
    rule_id: str,
    message: str,
    *,
    path: str | None = None,
    line: int | None = None,
    address: str | None = None,
    severity: Severity | None = None,
    confidence: Confidence = Confidence.HIGH,
    remediation: str | None = None,
) -> Finding:
    rule = dep_rules.RULES[rule_id]
    return Finding(
        rule_id=rule.id,
        severity=severity or rule.severity,
        confidence=confidence,
        message=message,
        location=Location(path=path, line=line, address=address),
        cwe=rule.cwe,
        task_ids=rule.task_ids,
        remediation=remediation,
    )


def _where(package: Package) -> str:
    return f"{package.source}:{package.line}" if package.line else package.source


def _ids(advisory: Advisory) -> str:
    cves = [a for a in advisory.aliases if a.startswith("CVE-")]
    return advisory.id + (f" ({', '.join(cves[:3])})" if cves else "")


def _rated(advisory: Advisory, ml: bool) -> Severity:
    """The finding's severity: the advisory's (medium when it carries none); an ML framework's
    never below medium (RV.1.1 R3 singles them out)."""
    severity = advisory.severity or Severity.MEDIUM
    return max(severity, Severity.MEDIUM) if ml else severity


def _spec_candidates(specifier: SpecifierSet) -> list[Version]:
    """Versions at the edges of a specifier: each bound, and just above an exclusive one."""
    found: list[Version] = []
    for spec in specifier:
        text = spec.version.removesuffix(".*")
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        found.append(version)
        found.append(Version(f"{version.base_version}.1"))
    return found


def _unpinned(
    package: Package, advisories: list[Advisory]
) -> tuple[list[Advisory], Version | None]:
    """The advisories affecting some version the specifier allows, and the lowest version the
    specifier allows that none of them affects (among the fixes and the specifier's bounds).

    Without the index of published versions this looks at the versions the advisories and the
    specifier name, which is where an affected range can begin or end.
    """
    try:
        specifier = SpecifierSet(package.specifier)
    except InvalidSpecifier:
        return [], None
    points = boundaries(advisories, package.name) + _spec_candidates(specifier)
    allowed = [v for v in points if specifier.contains(v, prereleases=True)]
    hits = [a for a in advisories if any(a.affects(package.name, v) for v in allowed)]
    if not hits:
        return [], None
    fixes = [
        f
        for a in advisories
        for x in a.affected
        if x.name == package.name
        for r in x.ranges
        for f in r.fixed()
    ]
    candidates = sorted({v for v in fixes + _spec_candidates(specifier) if v > Version("0")})
    safe = next(
        (
            v
            for v in candidates
            if specifier.contains(v, prereleases=True)
            and not any(a.affects(package.name, v) for a in advisories)
        ),
        None,
    )
    return hits, safe


def _database(
    db: AdvisoryDatabase | None, label: str, now: dt.datetime
) -> tuple[DatabaseInfo, list[Finding]]:
    findings: list[Finding] = []
    if db is None or db.count() == 0:
        why = "does not exist" if db is None else "holds no advisory"
        findings.append(
            _finding(
                dep_rules.NOT_CHECKED,
                "advisories not checked: run `ssdf advisories update` (the advisory database "
                f"{label} {why})",
                path=label,
                remediation="run `ssdf advisories update` (or `ssdf advisories update --from "
                "all.zip` offline) and check again",
            )
        )
        return DatabaseInfo(path=label, present=db is not None), findings
    updated = db.updated_at()
    age = None if updated is None else (now - updated).total_seconds() / 86400
    if age is None or age > dep_rules.STALE_AFTER_DAYS:
        when = "at an unknown time" if age is None else f"{age:.0f} day(s) ago"
        findings.append(
            _finding(
                dep_rules.STALE_DATABASE,
                f"the advisory database {label} was last updated {when}, more than "
                f"{dep_rules.STALE_AFTER_DAYS} days",
                path=label,
                remediation="run `ssdf advisories update`",
            )
        )
    info = DatabaseInfo(
        path=label,
        present=True,
        advisories=db.count(),
        updated_at=None if updated is None else updated.isoformat().replace("+00:00", "Z"),
        age_days=None if age is None else round(age, 3),
        newest_modified=db.newest_modified(),
    )
    return info, findings


def _locked_folders(files: dict[str, str]) -> set[str]:
    return {
        str(PurePosixPath(f).parent)
        for f, kind in files.items()
        if kind == "lock" and PurePosixPath(f).name.lower() in _LOCK_NAMES
    }


def _match(
    advisory: Advisory, package: Package, version: str | None, fixed: str | None
) -> AdvisoryMatch:
    return AdvisoryMatch(
        package=package.name,
        version=version,
        specifier=package.specifier,
        source=_where(package),
        id=advisory.id,
        aliases=list(advisory.aliases),
        summary=advisory.summary,
        severity=advisory.severity.value if advisory.severity else None,
        score=advisory.score,
        fixed=fixed,
        pinned=version is not None,
    )


def _check_package(
    package: Package,
    db: AdvisoryDatabase | None,
    locked: set[str],
    findings: list[Finding],
    matches: list[AdvisoryMatch],
) -> None:
    ml = package.ml_framework
    vulnerable_rule = dep_rules.VULNERABLE_ML if ml else dep_rules.VULNERABLE
    label = "the ML framework " if ml else ""
    if package.unverifiable:
        findings.append(
            _finding(
                dep_rules.NOT_VERIFIABLE,
                f"{package.name} ({_where(package)}) cannot be checked: {package.unverifiable}",
                path=package.source,
                line=package.line,
                address=package.name,
                remediation="depend on a published, versioned release (pinned, with --hash)",
            )
        )
        return
    if package.pinned:
        if db is None:
            return
        version = package.version or ""
        for advisory in db.affecting(package.name, version):
            try:
                fix = advisory.fix_for(package.name, Version(version))
            except InvalidVersion:
                fix = None
            fixed = str(fix) if fix else None
            matches.append(_match(advisory, package, version, fixed))
            findings.append(
                _finding(
                    vulnerable_rule,
                    f"{label}{package.name} {version} ({_where(package)}) is affected by "
                    f"{_ids(advisory)}: {advisory.summary or 'no summary'}"
                    + (f"; fixed in {fixed}" if fixed else "; no fix released"),
                    path=package.source,
                    line=package.line,
                    address=f"{package.name}=={version} {advisory.id}",
                    severity=_rated(advisory, ml),
                    remediation=f"upgrade {package.name} to {fixed} or later"
                    if fixed
                    else f"replace {package.name} or mitigate {advisory.id}",
                )
            )
        return
    folder = str(PurePosixPath(package.source).parent)
    in_lock = package.kind == "pyproject" and folder in locked
    findings.append(
        _finding(
            dep_rules.UNPINNED,
            f"{package.name}{package.specifier or ' (any version)'} ({_where(package)}) is "
            "not pinned to one version; it cannot be checked precisely"
            + (" (a lock file beside it pins it)" if in_lock else ""),
            path=package.source,
            line=package.line,
            address=package.name,
            severity=Severity.INFO if in_lock else None,
            remediation=f"pin it (`{package.name}==VERSION`) or lock it, with hashes",
        )
    )
    if db is None:
        return
    hits, safe = _unpinned(package, db.for_package(package.name))
    matches.extend(_match(a, package, None, str(safe) if safe else None) for a in hits)
    if hits:
        worst = max(hits, key=lambda a: _rated(a, ml))
        ids = ", ".join(a.id for a in hits[:5]) + (" ..." if len(hits) > 5 else "")
        safe_text = (
            f"the lowest allowed version without them is {safe}"
            if safe
            else "no version the specifier allows is free of them"
        )
        findings.append(
            _finding(
                dep_rules.VULNERABLE_ML if ml else dep_rules.ALLOWS_VULNERABLE,
                f"{label}{package.name}{package.specifier or ' (any version)'} "
                f"({_where(package)}) allows versions affected by {ids}; {safe_text}",
                path=package.source,
                line=package.line,
                address=f"{package.name} allows {worst.id}",
                severity=_rated(worst, ml),
                confidence=Confidence.MEDIUM,
                remediation=f"require {package.name}>={safe}" if safe else None,
            )
        )


def check_dependencies(
    declarations: Declarations,
    *,
    path: str,
    database: Path,
    database_label: str,
    fail_on: Severity,
    now: dt.datetime | None = None,
) -> DepsReport:
    """Match the packages read against the advisory database and report.

    Args:
        declarations: What :func:`ssdf_ai.code.deps.collect` (and the environment) read.
        path: The folder or file checked, as the report names it.
        database: The advisory database (a missing one is a finding, never an error).
        database_label: How the report names it.
        fail_on: The report's failure threshold.
        now: The time to measure the database's age against.

    Returns:
        The report with findings, packages and advisories matched.
    """
    now = now or dt.datetime.now(dt.UTC)
    findings: list[Finding] = []
    matches: list[AdvisoryMatch] = []
    db = AdvisoryDatabase.open(database) if database.is_file() else None
    try:
        info, db_findings = _database(db, database_label, now)
        findings += db_findings
        usable = db if info.advisories else None
        if not declarations.files:
            findings.append(
                _finding(
                    dep_rules.NOTHING_DECLARED,
                    f"no requirements, pyproject.toml or lock file found under {path}",
                    path=path,
                )
            )
        for index, problem in enumerate(declarations.problems):
            if index == MAX_PROBLEM_FINDINGS:
                rest = len(declarations.problems) - index
                findings.append(
                    _finding(dep_rules.UNREADABLE, f"{rest} more unreadable declaration(s)")
                )
                break
            findings.append(
                _finding(
                    dep_rules.UNREADABLE,
                    f"{problem.path}{f':{problem.line}' if problem.line else ''}: "
                    f"{problem.message}",
                    path=problem.path,
                    line=problem.line,
                    address=None if problem.line else problem.message[:80],
                    remediation="fix the line (pip's requirement syntax, PEP 508) so it is checked",
                )
            )
        for rel in declarations.unhashed:
            findings.append(
                _finding(
                    dep_rules.NO_HASHES,
                    f"{rel} pins no artifact hashes (--hash)",
                    path=rel,
                    remediation="generate it with hashes (`pip-compile --generate-hashes` or "
                    "`uv pip compile --generate-hashes`) and install with --require-hashes",
                )
            )
        locked = _locked_folders(declarations.files)
        seen: set[tuple[str, str | None, str, str, int | None]] = set()
        for package in declarations.packages:
            key = (package.name, package.version, package.specifier, package.source, package.line)
            if key in seen:
                continue
            seen.add(key)
            _check_package(package, usable, locked, findings, matches)
    finally:
        if db is not None:
            db.close()
    rows = [
        PackageRow(
            name=p.name,
            version=p.version,
            specifier=p.specifier,
            source=p.source,
            kind=p.kind,
            line=p.line,
            pinned=p.pinned,
            hashed=p.hashed,
            ml_framework=p.ml_framework,
            marker=p.marker,
            unverifiable=p.unverifiable,
        )
        for p in declarations.packages
    ]
    return DepsReport(
        findings=findings,
        fail_on=fail_on,
        path=path,
        files=dict(declarations.files),
        packages=rows,
        advisories=matches,
        database=info,
    )
