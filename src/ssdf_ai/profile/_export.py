"""Exports of the whole catalog as JSON, CSV and Markdown (OSCAL is in :mod:`.oscal`)."""

from __future__ import annotations

import csv
import io

from ssdf_ai.profile._enums import Tag
from ssdf_ai.profile._models import Catalog, Task

CSV_COLUMNS = (
    "group",
    "practice",
    "task",
    "priority",
    "tag",
    "item_id",
    "kind",
    "text",
    "task_statement",
    "ai_rmf",
    "owasp_llm_v1_1",
    "adv_ml",
)
"""The columns of :func:`to_csv`, in order."""


def to_json(catalog: Catalog) -> str:
    """Return the catalog model as indented JSON (the same shape as ``profile.yaml``).

    Args:
        catalog: The catalog.

    Returns:
        The JSON text, ending with a newline.
    """
    return catalog.model_dump_json(indent=2) + "\n"


def to_csv(catalog: Catalog) -> str:
    """Return one CSV row per item, and one row for each task without items.

    Columns are :data:`CSV_COLUMNS`; a task without items has empty ``item_id``, ``kind`` and
    ``text``. ``adv_ml`` is ``true`` or ``false``; a reference the task does not cite is empty.

    Args:
        catalog: The catalog.

    Returns:
        The CSV text with a header row.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for task in catalog.tasks():
        refs = task.references
        common = (task.group_id, task.practice_id, task.id, task.priority.value, task.tag.value)
        tail = (
            task.statement,
            refs.ai_rmf or "",
            refs.owasp_llm_v1_1 or "",
            "true" if refs.adv_ml else "false",
        )
        if not task.items:
            writer.writerow((*common, "", "", "", *tail))
        for item in task.items:
            writer.writerow((*common, item.id, item.kind.value, item.text, *tail))
    return buffer.getvalue()


def to_markdown(catalog: Catalog) -> str:
    """Return a readable Markdown document of the whole profile.

    Args:
        catalog: The catalog.

    Returns:
        The Markdown text: a heading per group, practice and task, with each task's priority,
        tag, references and items.
    """
    tasks = catalog.tasks()
    items = catalog.items()
    lines = [
        "# NIST SP 800-218A: SSDF Community Profile for Generative AI and Dual-Use Foundation "
        "Models",
        "",
        f"Source: {catalog.source}. {len(catalog.groups)} groups, {len(catalog.practices())} "
        f"practices, {len(tasks)} tasks, {len(items)} AI-specific items.",
        "",
        "Tags: *modified* = modified from SSDF 1.1; *new* = not part of SSDF 1.1. "
        "Item ids end in R (recommendation), C (consideration) or N (note).",
    ]
    for group in catalog.groups:
        lines += ["", f"## {group.id}: {group.title}"]
        for practice in group.practices:
            lines += ["", f"### {practice.id}: {practice.title}{_tag_suffix(practice.tag)}"]
            lines += ["", practice.statement]
            for task in practice.tasks:
                lines += _task_markdown(task)
    return "\n".join(lines) + "\n"


def _task_markdown(task: Task) -> list[str]:
    refs = task.references
    lines = [
        "",
        f"#### {task.id}{_tag_suffix(task.tag)}",
        "",
        task.statement,
        "",
        f"- Priority: **{task.priority.value}**",
        f"- AI RMF: {refs.ai_rmf or 'none'}",
        f"- OWASP Top 10 for LLM v1.1: {refs.owasp_llm_v1_1 or 'none'}",
        f"- NIST AI 100-2 (adversarial ML): {'cited' if refs.adv_ml else 'not cited'}",
        "",
    ]
    if not task.items:
        lines.append("No additions to SSDF 1.1.")
    else:
        lines += ["AI-specific items:", ""]
    lines.extend(f"- **{item.id}** ({item.kind.value}): {item.text}" for item in task.items)
    return lines


def _tag_suffix(tag: Tag) -> str:
    if tag is Tag.MODIFIED:
        return " *(modified from SSDF 1.1)*"
    if tag is Tag.NEW:
        return " *(not part of SSDF 1.1)*"
    return ""
