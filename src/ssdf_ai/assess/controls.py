"""Controls: small named yes/no questions over evidence, each mapped to profile tasks.

A control has metadata (:class:`~ssdf_ai.assess.model.ControlMeta`, kept as data so that
``docs/controls.md`` is generated from it) and an ``evaluate(facts)`` function that reads the
facts gathered once for the whole assessment and returns a
:class:`~ssdf_ai.assess.model.ControlResult`. A control never redoes a capability's work.

The built-in controls are listed explicitly in :data:`BUILTIN`; third-party controls come from
the ``ssdf_ai.controls`` entry-point group (an entry point names a :class:`Control` or a list
of them). A plugin without valid metadata, or reusing an id, is rejected with a warning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from importlib import metadata
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ssdf_ai.assess.model import ControlMeta, ControlResult, Effort, EvidenceLink
from ssdf_ai.findings import Outcome

if TYPE_CHECKING:
    from ssdf_ai.assess._facts import Facts

ENTRY_POINT_GROUP = "ssdf_ai.controls"

Evaluator = Callable[["Facts"], ControlResult]


@dataclasses.dataclass(frozen=True)
class Control:
    """A control: its metadata and the function that evaluates it."""

    meta: ControlMeta
    evaluate: Evaluator

    @property
    def id(self) -> str:
        """The control's id."""
        return self.meta.id

    def result(
        self, outcome: Outcome, rationale: str, evidence: Iterable[EvidenceLink] = ()
    ) -> ControlResult:
        """Build this control's result (a shortcut for evaluators)."""
        return ControlResult(
            control_id=self.meta.id, outcome=outcome, rationale=rationale, evidence=tuple(evidence)
        )


def control(
    control_id: str,
    *,
    title: str,
    question: str,
    task_ids: tuple[str, ...],
    motivation: str,
    remediation: str,
    effort: Effort,
    item_ids: tuple[str, ...] = (),
) -> Callable[[Callable[[Control, Facts], ControlResult]], Control]:
    """Declare a control from an evaluator function; the metadata is validated at once.

    The function receives the control itself (for :meth:`Control.result`) and the facts.

    Returns:
        A decorator that turns the function into a :class:`Control`.
    """
    meta = ControlMeta(
        id=control_id,
        title=title,
        question=question,
        task_ids=task_ids,
        item_ids=item_ids,
        motivation=motivation,
        remediation=remediation,
        effort=effort,
    )

    def decorate(fn: Callable[[Control, Facts], ControlResult]) -> Control:
        holder: list[Control] = []

        def evaluate(facts: Facts) -> ControlResult:
            return fn(holder[0], facts)

        made = Control(meta=meta, evaluate=evaluate)
        holder.append(made)
        return made

    return decorate


@dataclasses.dataclass(frozen=True)
class Registry:
    """The controls an assessment evaluates, and the plugins that were refused."""

    controls: tuple[Control, ...]
    warnings: tuple[str, ...] = ()

    def get(self, control_id: str) -> Control | None:
        """The control with this id, if registered."""
        return next((c for c in self.controls if c.id == control_id), None)


def _plugin_controls(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def load_registry(*, plugins: bool = True) -> Registry:
    """Return the built-in controls plus valid third-party ones.

    Args:
        plugins: Whether to load the ``ssdf_ai.controls`` entry points.

    Returns:
        The registry, with a warning per refused plugin.
    """
    from ssdf_ai.assess._builtin import BUILTIN

    controls = list(BUILTIN)
    warnings: list[str] = []
    if plugins:
        for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = entry.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the assessment
                warnings.append(f"control plugin {entry.value!r} failed to load: {exc}")
                continue
            for candidate in _plugin_controls(loaded):
                problem = _plugin_problem(candidate, {c.id for c in controls})
                if problem:
                    warnings.append(f"control plugin {entry.value!r} rejected: {problem}")
                else:
                    controls.append(candidate)
    return Registry(controls=tuple(controls), warnings=tuple(warnings))


def _plugin_problem(candidate: Any, taken: set[str]) -> str | None:
    if not isinstance(candidate, Control):
        return "not an ssdf_ai.assess.controls.Control"
    try:
        meta = ControlMeta.model_validate(candidate.meta.model_dump())
    except ValidationError as exc:
        return f"invalid metadata ({exc.error_count()} problem(s))"
    if meta.id in taken:
        return f"its id {meta.id!r} is already taken"
    return None
