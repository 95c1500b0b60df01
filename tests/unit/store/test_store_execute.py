"""Access paths and their executors: one definition each, shared by the planner and the store."""

from __future__ import annotations

from dsc_engine.query import ast, plan
from dsc_engine.store import execute


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_every_access_path_is_listed_and_has_an_executor() -> None:
    """A path the executor does not know would otherwise be a silent scan (or a crash)."""
    assert _subclasses(plan.Access) == set(plan.ACCESS_PATHS) == set(execute._EXECUTORS)


def test_every_access_path_describes_itself_for_explain() -> None:
    node = ast.Compare("UserName", ast.CompareOp.EQ, "a")
    hash_path = plan.HashLookup("UserName", node)
    paths = [
        plan.FullScan(), plan.NoRows(), hash_path, plan.SortedLookup("EffectRow", ast.Range("EffectRow", 1, 2)),
        plan.TimeLookup("CreationTime", ast.InSet("CreationTime", (1, 2)), (plan.Window(1, 1), plan.Window(2, 2))),
        plan.EntryLookup("SensitiveDataLog", "TableName", ast.Compare("TableName", ast.CompareOp.EQ, "t")),
        plan.EntryPairLookup("SensitiveDataLog", ast.Compare("TableName", ast.CompareOp.EQ, "t"),
                             ast.Compare("ColumnName", ast.CompareOp.EQ, "c")),
        plan.IntersectOf(hash_path, (hash_path,)), plan.Complement(hash_path), plan.UnionOf((hash_path, hash_path)),
    ]
    assert {type(path) for path in paths} == set(plan.ACCESS_PATHS)
    assert all(path.describe() for path in paths)
    assert hash_path.describe() == 'hash index UserName: UserName = "a"'
    assert hash_path.conjunct() == node
