"""``ssdf watch``: continuous integrity monitoring of a signed model, dataset or configuration.

The signature is verified first; then the tree is polled (:mod:`ssdf_ai.integrity.watch`) and
every alert is printed at once as one JSON line on stdout, handed to the ``--exec`` hook, and
recorded as evidence (a ``watch`` run per round that raised alerts). The engine, the key
handling and the store are imported inside the command, so that ``ssdf --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from ssdf_ai.cli._common import Output, command

if TYPE_CHECKING:
    from ssdf_ai.integrity.watch import Alert, Watcher
    from ssdf_ai.store import EvidenceStore

DEFAULT_EXEC_TIMEOUT = 30.0


def _say(out: Output, message: str) -> None:
    """A status line on stderr (plain text: paths must never be read as markup)."""
    if not out.quiet:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()


class _Stop:
    """Set by SIGINT and SIGTERM: the watch ends after the file being hashed."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    @contextlib.contextmanager
    def on_signals(self) -> Iterator[None]:
        import signal

        def handler(signum: int, frame: object) -> None:
            self.requested = True

        previous: dict[signal.Signals, Any] = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Not in the main thread (an embedding caller), no handlers can be set.
            with contextlib.suppress(ValueError):
                previous[sig] = signal.signal(sig, handler)
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)


def _run_hook(argv: list[str], line: str, alert: Alert, timeout: float) -> None:
    """Run the ``--exec`` command with the alert on stdin; report failures on stderr."""
    import subprocess

    env = dict(os.environ, SSDF_ALERT_PATH=str(alert.path), SSDF_ALERT_KIND=alert.kind)
    # The hook's own output goes to stderr: stdout carries nothing but alert lines.
    try:
        stdout: int = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        stdout = subprocess.DEVNULL
    try:
        done = subprocess.run(  # noqa: S603 - the user's own command, split, never a shell
            argv,
            input=line + "\n",
            text=True,
            env=env,
            stdout=stdout,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        sys.stderr.write(f"warning: --exec {argv[0]} ran past {timeout:g}s and was killed\n")
        return
    except OSError as exc:
        sys.stderr.write(f"warning: --exec {argv[0]} could not run: {exc.strerror or exc}\n")
        return
    if done.returncode != 0:
        sys.stderr.write(f"warning: --exec {argv[0]} exited with code {done.returncode}\n")


class _Recorder:
    """Records each round's alerts as one ``watch`` run (opening the store on first use)."""

    def __init__(self, project: Path, argv: list[str], watcher: Watcher) -> None:
        self.project = project
        self.argv = argv
        self.watcher = watcher
        self.store: EvidenceStore | None = None

    def record(self, alerts: list[Alert], lines: list[str]) -> int:
        from ssdf_ai.cli.evidence import database_url
        from ssdf_ai.evidence import Subject, SubjectKind
        from ssdf_ai.integrity.watch import RESTORED, relative_name
        from ssdf_ai.store import EvidenceStore

        if self.store is None:
            self.store = EvidenceStore.open(self.project, url=database_url(self.project))
        settings = self.watcher.settings
        sha256_files = settings.method == "files" and settings.hash_type == "sha256"
        with self.store.run("watch", self.argv) as run:
            run.add_subject(
                Subject(
                    kind=SubjectKind.MODEL, name=relative_name(self.watcher.model, self.project)
                )
            )
            subjects: dict[tuple[str, str | None], int] = {}
            for alert in alerts:
                name = relative_name(alert.path, self.project)
                digest = alert.actual if sha256_files and alert.resource is not None else None
                if (name, digest) not in subjects:
                    subjects[name, digest] = run.add_subject(
                        Subject(kind=SubjectKind.FILE, name=name, digest=digest)
                    )
                run.add_finding(alert.finding(self.project), subject_id=subjects[name, digest])
            run.add_artifact(
                "".join(line + "\n" for line in lines).encode("utf-8"),
                kind="integrity-alerts",
                media_type="application/x-ndjson",
                name="integrity-alerts.jsonl",
            )
            run.set_exit_code(0 if all(a.kind == RESTORED for a in alerts) else 1)
            return run.id

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


@contextlib.contextmanager
def _sink(out: Output) -> Iterator[TextIO]:
    """Where alert lines go: stdout, or ``--output`` FILE (appended, line by line)."""
    if out.output is None:
        yield sys.stdout
        return
    with open(out.output, "a", encoding="utf-8") as handle:
        yield handle


def register(app: typer.Typer) -> None:
    """Add the top-level ``watch`` command to ``app``."""

    @command(app, "watch", formats=None)
    def watch(
        path: Annotated[
            Path,
            typer.Argument(
                help="The signed model or dataset folder (or file) to watch.", show_default=False
            ),
        ],
        signature: Annotated[
            Path,
            typer.Option(
                "--signature",
                "-s",
                help="The OpenSSF model signing signature (model.sig) to watch against.",
                dir_okay=False,
                show_default=False,
            ),
        ],
        key: Annotated[
            Path,
            typer.Option(
                "--key",
                help="The signer's public key (PEM); the signature must verify with it.",
                dir_okay=False,
                show_default=False,
            ),
        ],
        interval: Annotated[
            float,
            typer.Option("--interval", min=0.05, metavar="SECONDS", help="Seconds between checks."),
        ] = 1.0,
        once: Annotated[
            bool,
            typer.Option("--once", help="Check once, print the alerts and exit (1 if any)."),
        ] = False,
        max_seconds: Annotated[
            float | None,
            typer.Option(
                "--max-seconds",
                min=0,
                metavar="N",
                help="Stop after N seconds.",
                show_default=False,
            ),
        ] = None,
        max_events: Annotated[
            int | None,
            typer.Option(
                "--max-events", min=1, metavar="N", help="Stop after N alerts.", show_default=False
            ),
        ] = None,
        exec_: Annotated[
            str | None,
            typer.Option(
                "--exec",
                metavar="CMD",
                help="Run CMD for each alert (split like a shell line, never run by a shell), "
                "with the alert JSON on stdin and SSDF_ALERT_PATH, SSDF_ALERT_KIND in its "
                "environment.",
                show_default=False,
            ),
        ] = None,
        exec_timeout: Annotated[
            float,
            typer.Option(
                "--exec-timeout",
                min=0.1,
                metavar="SECONDS",
                help="Kill the --exec command after this long.",
            ),
        ] = DEFAULT_EXEC_TIMEOUT,
        closed: Annotated[
            bool,
            typer.Option(
                "--closed",
                help="The model is closed: also flag weights and data readable by every user.",
            ),
        ] = False,
        trust_signed_stats: Annotated[
            bool,
            typer.Option(
                "--trust-signed-stats",
                help="At start, take files whose size and modification time equal the "
                "signature's record as signed, without hashing them (faster, weaker).",
            ),
        ] = False,
        project: Annotated[
            Path,
            typer.Option(
                "--project",
                help="The project root (searched upwards for ssdf.toml): searched for private "
                "keys; the evidence store is PROJECT/.ssdf.",
                file_okay=False,
            ),
        ] = Path("."),
        record: Annotated[
            bool,
            typer.Option("--record/--no-record", help="Record alerts in the evidence store."),
        ] = True,
        *,
        out: Output,
    ) -> None:
        """Watch a signed model, its configuration or data, and alert on every change.

        The signature is verified first. Files that changed are re-hashed each --interval.

        Each alert is one JSON line on stdout. Unsafe permissions and private keys are flagged.

        Exit 0 no alert, 1 alerts seen or signature not authentic, 2 usage errors.
        """
        import shlex
        import shutil

        from ssdf_ai.cli.evidence import _project
        from ssdf_ai.errors import Error, InputError
        from ssdf_ai.integrity import keys, oms
        from ssdf_ai.integrity.watch import Watcher

        root = _project(project)
        if not os.path.lexists(path):
            raise InputError(f"nothing to watch at {path}", where=path)
        hook: list[str] | None = None
        if exec_ is not None:
            try:
                hook = shlex.split(exec_)
            except ValueError as exc:
                raise InputError(f"cannot split --exec {exec_!r}: {exc}") from None
            if not hook:
                raise InputError("--exec is empty", hint="give the command to run per alert")
            if shutil.which(hook[0]) is None:
                raise InputError(
                    f"--exec command {hook[0]!r} is not an executable file or on PATH",
                    hint="give the program's path, and make it executable",
                )
        public = keys.load_public_key(key, curves=keys.OMS_CURVES)
        signed, signer, problems = oms.verify_bundle(signature, oms.Trust(public_key=public))
        if problems or signer is None:
            sys.stderr.write(f"error: the signature {signature} is not authentic:\n")
            for problem in problems or ["it does not verify with the given key"]:
                sys.stderr.write(f"  - {problem}\n")
            raise typer.Exit(1)
        watcher = Watcher(
            path,
            signed,
            signature=signature,
            repository=root,
            closed=closed,
            trust_signed_stats=trust_signed_stats,
        )
        _say(
            out,
            f"watching {watcher.files} files of {path} against {signature} "
            f"(root {signed.root}, signed by {signer.method} {signer.identity})",
        )
        recorder = _Recorder(root, ["ssdf", *sys.argv[1:]], watcher) if record else None
        stop = _Stop()
        seen = 0
        noted = False
        try:
            with stop.on_signals(), _sink(out) as sink:
                for alerts in watcher.watch(
                    interval=interval, stop=stop, max_seconds=max_seconds, once=once
                ):
                    if max_events is not None:
                        alerts = alerts[: max_events - seen]
                    lines = []
                    for alert in alerts:
                        line = json.dumps(alert.to_json())
                        lines.append(line)
                        try:
                            sink.write(line + "\n")
                            sink.flush()
                        except BrokenPipeError:
                            # The reader is gone: stop quietly (and keep Python from
                            # complaining when it flushes stdout at exit).
                            if sink is sys.stdout:
                                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                            stop.requested = True
                        if hook is not None:
                            _run_hook(hook, line, alert, exec_timeout)
                    seen += len(alerts)
                    if alerts and recorder is not None:
                        try:
                            run_id = recorder.record(alerts, lines)
                        except Error as error:
                            sys.stderr.write(f"warning: alerts not recorded: {error}\n")
                        else:
                            if out.verbose:
                                _say(out, f"recorded as run:{run_id}")
                    if watcher.repository_truncated and not noted:
                        _say(out, "note: the project is too large to search in full for keys")
                        noted = True
                    if stop() or (max_events is not None and seen >= max_events):
                        break
        finally:
            if recorder is not None:
                recorder.close()
        _say(out, f"watch ended after {watcher.rounds} check(s): {seen} alert(s)")
        if seen:
            raise typer.Exit(1)
        return None
