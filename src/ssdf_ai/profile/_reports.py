"""The reports of ``ssdf profile list`` and ``ssdf profile show``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.profile._enums import ItemKind, Priority, Tag
from ssdf_ai.profile._models import Catalog, Group, Item, Node, Practice, Task
from ssdf_ai.report.base import Report

if TYPE_CHECKING:
    from rich.console import RenderableType

Level = Literal["group", "practice", "task", "item"]

_PRIORITY_STYLE = {Priority.HIGH: "bold red", Priority.MEDIUM: "yellow", Priority.LOW: "dim"}
_TAG_STYLE = {Tag.UNCHANGED: "dim", Tag.MODIFIED: "cyan", Tag.NEW: "bold green"}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProfileSummary(_Frozen):
    """Counts of what a listing shows."""

    groups: int
    practices: int
    tasks: int
    items: int
    recommendations: int
    considerations: int
    notes: int

    @classmethod
    def of(cls, tasks: Iterable[Task]) -> ProfileSummary:
        """Count the groups, practices, tasks and items (by kind) that ``tasks`` span.

        Args:
            tasks: The tasks shown.

        Returns:
            The counts.
        """
        shown = list(tasks)
        items = [item for task in shown for item in task.items]
        return cls(
            groups=len({task.group_id for task in shown}),
            practices=len({task.practice_id for task in shown}),
            tasks=len(shown),
            items=len(items),
            recommendations=sum(item.kind is ItemKind.RECOMMENDATION for item in items),
            considerations=sum(item.kind is ItemKind.CONSIDERATION for item in items),
            notes=sum(item.kind is ItemKind.NOTE for item in items),
        )

    def line(self) -> str:
        """One line of counts, e.g. ``4 groups, 20 practices, 48 tasks, 86 items (59 …)``."""
        return (
            f"{_count(self.groups, 'group')}, {_count(self.practices, 'practice')}, "
            f"{_count(self.tasks, 'task')}, {_count(self.items, 'item')} "
            f"({_count(self.recommendations, 'recommendation')}, "
            f"{_count(self.considerations, 'consideration')}, {_count(self.notes, 'note')})"
        )


class ProfileFilters(_Frozen):
    """The filters a listing was made with (``None``: not filtered)."""

    group: str | None = None
    practice: str | None = None
    priority: Priority | None = None
    tag: Tag | None = None


class ProfileListReport(Report):
    """The tasks of the profile that match the filters, with their full data.

    Attributes:
        filters: The filters applied.
        show_items: Whether the terminal view lists each task's items.
        summary: Counts of what is shown.
        tasks: The matching tasks in order, each with its items and references.
    """

    report_type: ClassVar[str] = "profile-list"

    filters: ProfileFilters = Field(default_factory=ProfileFilters)
    show_items: bool = False
    summary: ProfileSummary
    tasks: list[Task]

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        *,
        group: str | None = None,
        practice: str | None = None,
        priority: Priority | None = None,
        tag: Tag | None = None,
        show_items: bool = False,
    ) -> ProfileListReport:
        """List the tasks of ``catalog`` that match every given filter.

        Args:
            catalog: The catalog.
            group: A group id, e.g. ``PO``.
            practice: A practice id, e.g. ``PO.1``.
            priority: A priority.
            tag: A task tag.
            show_items: List items under each task in the terminal view.

        Returns:
            The report.

        Raises:
            InputError: If the group or practice is unknown.
        """
        tasks = catalog.tasks(group=group, practice=practice, priority=priority, tag=tag)
        filters = ProfileFilters(
            group=catalog.group(group).id if group else None,
            practice=catalog.practice(practice).id if practice else None,
            priority=priority,
            tag=tag,
        )
        return cls(
            filters=filters,
            show_items=show_items,
            summary=ProfileSummary.of(tasks),
            tasks=tasks,
        )

    def terminal(self) -> RenderableType:
        """A table of tasks (and their items with ``--items``), then the counts."""
        from rich.console import Group as RichGroup
        from rich.table import Table
        from rich.text import Text

        summary = Text(self.summary.line(), style="bold")
        if not self.tasks:
            return RichGroup(Text("No tasks match the filters."), summary)
        table = Table(title="SP 800-218A tasks", title_justify="left", expand=False)
        table.add_column("task", no_wrap=True)
        table.add_column("priority", no_wrap=True)
        table.add_column("tag", no_wrap=True)
        table.add_column("statement", overflow="fold")
        for column in ("R", "C", "N"):
            table.add_column(column, justify="right", no_wrap=True)
        for task in self.tasks:
            table.add_row(
                Text(task.id, style="bold"),
                Text(task.priority.value, style=_PRIORITY_STYLE[task.priority]),
                Text(task.tag.value, style=_TAG_STYLE[task.tag]),
                excerpt(task.statement, 64),
                *(str(len(task.items_of(kind))) for kind in ItemKind),
            )
            if self.show_items:
                for item in task.items:
                    table.add_row(
                        Text(f"  {item.id}", style="dim"),
                        "",
                        Text(item.kind.value, style="italic"),
                        item.text,
                        "",
                        "",
                        "",
                    )
        return RichGroup(table, summary)


class NodeRef(_Frozen):
    """A short description of a node: its id, level and title or text."""

    id: str
    level: Level
    text: str = Field(
        description="A group's or practice's title, a task's statement, an item's text."
    )
    priority: Priority | None = None
    tag: Tag | None = None
    kind: ItemKind | None = None

    @classmethod
    def of(cls, node: Node) -> NodeRef:
        """Describe ``node`` in short.

        Args:
            node: Any catalog node.

        Returns:
            The reference.
        """
        if isinstance(node, Group):
            return cls(id=node.id, level="group", text=node.title)
        if isinstance(node, Practice):
            return cls(id=node.id, level="practice", text=node.title, tag=node.tag)
        if isinstance(node, Task):
            return cls(
                id=node.id, level="task", text=node.statement, priority=node.priority, tag=node.tag
            )
        return cls(id=node.id, level="item", text=node.text, kind=node.kind)


class ProfileShowReport(Report):
    """One node of the profile with its chain of parents and its direct children.

    Attributes:
        id: The node's id.
        level: group, practice, task or item.
        node: The node with all its data (and everything nested under it).
        parents: The ancestors, outermost first.
        children: The direct children, in order.
    """

    report_type: ClassVar[str] = "profile-show"

    id: str
    level: Level
    node: Group | Practice | Task | Item
    parents: list[NodeRef]
    children: list[NodeRef]

    @classmethod
    def build(cls, catalog: Catalog, node_id: str) -> ProfileShowReport:
        """Describe the node with id ``node_id``.

        Args:
            catalog: The catalog.
            node_id: Any group, practice, task or item id (any case).

        Returns:
            The report.

        Raises:
            InputError: If there is no such id (the hint lists close ids).
        """
        node = catalog.get(node_id)
        return cls(
            id=node.id,
            level=NodeRef.of(node).level,
            node=node,
            parents=[NodeRef.of(parent) for parent in catalog.ancestors(node.id)],
            children=[NodeRef.of(child) for child in catalog.children_of(node.id)],
        )

    def terminal(self) -> RenderableType:
        """A panel with the node's details, and a tree from its group down to its children."""
        from rich.console import Group as RichGroup
        from rich.panel import Panel
        from rich.text import Text
        from rich.tree import Tree

        body = Text()
        node = self.node
        if isinstance(node, Group | Practice):
            body.append(node.title + "\n", style="bold")
        if isinstance(node, Practice | Task):
            body.append(node.statement + "\n")
        if isinstance(node, Item):
            body.append(node.text + "\n")
            body.append("kind: ", style="dim").append(node.kind.value + "\n")
        if isinstance(node, Task):
            body.append("priority: ", style="dim")
            body.append(node.priority.value, style=_PRIORITY_STYLE[node.priority]).append("\n")
        if isinstance(node, Practice | Task):
            body.append("SSDF 1.1: ", style="dim")
            body.append(_tag_words(node.tag), style=_TAG_STYLE[node.tag]).append("\n")
        if isinstance(node, Task):
            refs = node.references
            body.append("AI RMF: ", style="dim").append(f"{refs.ai_rmf or '-'}\n")
            body.append("OWASP LLM v1.1: ", style="dim").append(f"{refs.owasp_llm_v1_1 or '-'}\n")
            body.append("NIST AI 100-2: ", style="dim").append("cited" if refs.adv_ml else "-")
        body.rstrip()
        panel = Panel(body, title=f"{self.level} {self.id}", title_align="left", expand=False)

        tree: Tree | None = None
        branch: Tree | None = None
        for parent in self.parents:
            label = Text(f"{parent.id}  ", style="bold").append(excerpt(parent.text, 70), "dim")
            branch = Tree(label) if branch is None else branch.add(label)
            tree = tree or branch
        label = Text(f"{self.id}  ", style="bold reverse").append(
            excerpt(NodeRef.of(node).text, 70)
        )
        here = Tree(label) if branch is None else branch.add(label)
        tree = tree or here
        for child in self.children:
            extra = f" [{child.priority.value}]" if child.priority else ""
            here.add(Text(f"{child.id}{extra}  ", style="bold").append(excerpt(child.text, 70)))
        return RichGroup(panel, tree)


def excerpt(text: str, width: int) -> str:
    """Shorten ``text`` to at most ``width`` characters, ending with an ellipsis if cut.

    Args:
        text: The text.
        width: The largest length of the result.

    Returns:
        The text, or its start and "…".
    """
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0] if " " in text[: width - 1] else text[: width - 1]
    return cut.rstrip(" ,;:") + "…"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _tag_words(tag: Tag) -> str:
    return {
        Tag.UNCHANGED: "unchanged from SSDF 1.1",
        Tag.MODIFIED: "modified from SSDF 1.1",
        Tag.NEW: "new (not part of SSDF 1.1)",
    }[tag]
