"""CommandStack: do/undo/redo, labels, composites, no-ops, bounded depth, signal."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from app.session.undo import Command, CommandStack, CompositeCommand


@dataclass
class Board:
    """A toy context: named values plus a log of every write (like an audit trail)."""

    values: dict[str, int] = field(default_factory=dict)
    writes: list[tuple[str, int]] = field(default_factory=list)
    fail_on: str | None = None

    def set(self, key: str, value: int) -> None:
        if key == self.fail_on:
            raise RuntimeError(f"cannot write {key}")
        self.values[key] = value
        self.writes.append((key, value))


@dataclass(frozen=True)
class SetValue(Command[Board]):
    key: str
    old: int
    new: int
    label = "Set value"

    def apply(self, ctx: Board) -> int:
        ctx.set(self.key, self.new)
        return self.new

    def revert(self, ctx: Board) -> None:
        ctx.set(self.key, self.old)

    def is_noop(self) -> bool:
        return self.old == self.new


@dataclass(frozen=True)
class MoveValue(SetValue):
    label = "Move measurement"


@pytest.fixture
def board() -> Board:
    return Board(values={"a": 0, "b": 0})


@pytest.fixture
def stack(board: Board) -> CommandStack[Board]:
    return CommandStack(board)


def test_push_applies_and_returns_result(stack: CommandStack[Board], board: Board) -> None:
    assert stack.push(SetValue("a", 0, 5)) == 5
    assert board.values["a"] == 5
    assert stack.can_undo_redo() == (True, False)


def test_undo_and_redo_walk_the_history(stack: CommandStack[Board], board: Board) -> None:
    stack.push(SetValue("a", 0, 1))
    stack.push(SetValue("a", 1, 2))
    assert isinstance(stack.undo(), SetValue)
    assert board.values["a"] == 1
    stack.undo()
    assert board.values["a"] == 0
    assert stack.can_undo_redo() == (False, True)
    assert stack.undo() is None
    stack.redo()
    stack.redo()
    assert board.values["a"] == 2
    assert stack.redo() is None
    assert stack.can_undo_redo() == (True, False)


def test_undo_is_a_new_write_never_an_erasure(stack: CommandStack[Board], board: Board) -> None:
    stack.push(SetValue("a", 0, 7))
    stack.undo()
    stack.redo()
    assert board.writes == [("a", 7), ("a", 0), ("a", 7)]


def test_labels_name_the_next_command(stack: CommandStack[Board]) -> None:
    assert (stack.undo_label, stack.redo_label) == ("Undo", "Redo")
    stack.push(MoveValue("a", 0, 3))
    assert stack.undo_label == "Undo Move measurement"
    stack.undo()
    assert stack.undo_label == "Undo"
    assert stack.redo_label == "Redo Move measurement"


def test_noop_is_not_pushed(stack: CommandStack[Board], board: Board) -> None:
    changes: list[None] = []
    stack.changed.connect(lambda: changes.append(None))
    assert stack.push(MoveValue("a", 0, 0)) is None
    assert board.writes == []
    assert stack.can_undo_redo() == (False, False)
    assert changes == []


def test_new_push_clears_redo(stack: CommandStack[Board], board: Board) -> None:
    stack.push(SetValue("a", 0, 1))
    stack.undo()
    assert stack.can_undo_redo() == (False, True)
    stack.push(SetValue("b", 0, 4))
    assert stack.can_undo_redo() == (True, False)
    assert stack.redo() is None
    assert board.values == {"a": 0, "b": 4}


def test_composite_applies_in_order_and_reverts_in_reverse(
    stack: CommandStack[Board], board: Board
) -> None:
    parent = CompositeCommand.of(
        "Delete lesion", [SetValue("a", 0, 1), SetValue("b", 0, 2), SetValue("a", 1, 1)]
    )
    assert len(parent.children) == 2  # the no-op child is dropped
    assert stack.push(parent) == [1, 2]
    assert stack.undo_label == "Undo Delete lesion"
    board.writes.clear()
    stack.undo()
    assert board.writes == [("b", 0), ("a", 0)]
    stack.redo()
    assert board.values == {"a": 1, "b": 2}


def test_empty_composite_is_a_noop(stack: CommandStack[Board]) -> None:
    assert stack.push(CompositeCommand.of("Nothing", [SetValue("a", 0, 0)])) is None
    assert stack.can_undo_redo() == (False, False)


def test_failing_composite_rolls_back_and_is_not_pushed(
    stack: CommandStack[Board], board: Board
) -> None:
    board.fail_on = "b"
    with pytest.raises(RuntimeError, match="cannot write b"):
        stack.push(CompositeCommand.of("Both", [SetValue("a", 0, 1), SetValue("b", 0, 2)]))
    assert board.values == {"a": 0, "b": 0}
    assert stack.can_undo_redo() == (False, False)


def test_failing_undo_keeps_the_command(stack: CommandStack[Board], board: Board) -> None:
    stack.push(SetValue("b", 0, 2))
    board.fail_on = "b"
    with pytest.raises(RuntimeError):
        stack.undo()
    assert stack.can_undo_redo() == (True, False)
    board.fail_on = None
    stack.undo()
    assert board.values["b"] == 0


def test_depth_is_bounded(board: Board) -> None:
    stack = CommandStack(board, max_depth=3)
    for i in range(5):
        stack.push(SetValue("a", i, i + 1))
    assert len(stack.undo_commands) == 3
    while stack.undo():
        pass
    assert board.values["a"] == 2  # the two oldest edits can no longer be undone
    with pytest.raises(ValueError, match="max_depth"):
        CommandStack(board, max_depth=0)


def test_changed_signal_fires_on_every_transition(stack: CommandStack[Board]) -> None:
    states: list[tuple[bool, bool]] = []
    stack.changed.connect(lambda: states.append(stack.can_undo_redo()))
    stack.push(SetValue("a", 0, 1))
    stack.undo()
    stack.redo()
    stack.clear()
    assert states == [(True, False), (False, True), (True, False), (False, False)]
