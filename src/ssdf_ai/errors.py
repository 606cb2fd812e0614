"""Errors raised by ssdf-ai.

Every error the library raises on purpose derives from :class:`Error`, and every one of them
can explain itself through :meth:`Error.diagnostics`: what went wrong, where, and what to do.
The command line catches :class:`Error` once, prints the diagnostics and exits with code 2;
anything else is a bug and is re-raised.

Bad input (:class:`InputError`), bad configuration (:class:`ConfigError`), a damaged store or
archive (:class:`StoreError`) and a failed security verdict (:class:`VerificationError`) are
different classes so that callers never have to parse messages to tell them apart.
"""

from __future__ import annotations

from pathlib import Path


class Error(Exception):
    """Base class of every error ssdf-ai raises on purpose.

    Args:
        message: What went wrong, in one sentence.
        where: The file, line, field or identifier it concerns, if any.
        hint: What the user can do about it, if anything.
    """

    def __init__(self, message: str, *, where: str | Path | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = str(where) if where is not None else None
        self.hint = hint

    def diagnostics(self) -> str:
        """Return a human-readable explanation: what, where, and what to do.

        Returns:
            A multi-line string ready to print to a terminal.
        """
        lines = [f"error: {self.message}"]
        if self.where:
            lines.append(f"  where: {self.where}")
        if self.hint:
            lines.append(f"  what to do: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message if not self.where else f"{self.where}: {self.message}"


class InputError(Error):
    """A file, argument or identifier given to ssdf-ai is missing, malformed or unsupported."""


class ConfigError(Error):
    """The project's configuration (ssdf.toml or [tool.ssdf]) is invalid.

    Args:
        message: What went wrong.
        problems: Each individual problem as ``(where, message, hint)``; ``where`` is usually
            ``file:line`` followed by the key path.
        where: The file concerned.
        hint: What to do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        problems: list[tuple[str, str, str | None]] | None = None,
        where: str | Path | None = None,
        hint: str | None = None,
    ):
        super().__init__(message, where=where, hint=hint)
        self.problems = problems or []

    def diagnostics(self) -> str:
        """Return the message followed by one line per problem found."""
        lines = [f"error: {self.message}"]
        if self.where:
            lines.append(f"  where: {self.where}")
        for where, message, hint in self.problems:
            lines.append(f"  {where}: {message}")
            if hint:
                lines.append(f"      {hint}")
        if self.hint:
            lines.append(f"  what to do: {self.hint}")
        return "\n".join(lines)


class StoreError(Error):
    """The evidence store or an evidence archive cannot be read or written."""


class VerificationError(Error):
    """Evidence failed verification: a digest, signature or manifest does not match.

    This is a security verdict, not a usage error: it means something may have been
    tampered with.
    """


class MissingExtraError(Error):
    """An optional dependency needed by a command is not installed.

    Args:
        extra: The name of the ``ssdf-ai`` extra that provides it.
        module: The module that failed to import.
    """

    def __init__(self, extra: str, module: str):
        super().__init__(
            f"this needs the optional dependency {module!r}, which is not installed",
            hint=f"install it with: pip install 'ssdf-ai[{extra}]'",
        )
        self.extra = extra
        self.module = module
