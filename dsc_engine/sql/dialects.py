"""What differs between the SQL engines, in one table: DuckDB and ClickHouse (chDB or a server).

Everything else (the filter compiler, the statements) is built once with sqlglot's expression
builder and rendered per dialect by sqlglot. A :class:`Dialect` says:

- how a bound value is written: DuckDB ``$p0`` (values passed beside the statement), ClickHouse
  ``{p0: Int64}`` (typed query parameters, substituted by the server after parsing);
- the DDL of a kind's table: column types (ClickHouse ``Nullable(...)`` for optional fields;
  DuckDB ``NOT NULL`` for required ones) and, for ClickHouse, the ``MergeTree`` engine ordered by
  the kind's order keys;
- where tables live: DuckDB's default schema of its file, ClickHouse's database;
- whether the kind's key tables are kept and a page's rows fetched by load number
  (:attr:`Dialect.keyed`): DuckDB, whose tables have no order a filter could use. A ClickHouse
  table is a ``MergeTree`` kept in the kind's order, which already bounds what a page reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlglot import exp
from sqlglot.expressions.datatypes import DType

from dsc_engine.sql.schema import SEQ, Column, EntryColumn, Table


#: The type of a bound value, by its Python type (ClickHouse placeholders name it).
_VALUE_TYPES: Mapping[type, DType] = {str: DType.TEXT, int: DType.BIGINT, bool: DType.BOOLEAN}


#: The stored types as each engine's catalog names them (``information_schema.columns.data_type``,
#: ``system.columns.type``).
_DUCKDB_TYPES: Mapping[DType, str] = {DType.TEXT: "VARCHAR", DType.BIGINT: "BIGINT", DType.BOOLEAN: "BOOLEAN"}
_CLICKHOUSE_TYPES: Mapping[DType, str] = {DType.TEXT: "String", DType.BIGINT: "Int64", DType.BOOLEAN: "Bool"}


def value_type(value: object) -> DType:
    """The SQL type of a bound value (``TypeError`` for a value no filter binds)."""
    try:
        return _VALUE_TYPES[type(value)]
    except KeyError:
        raise TypeError(f"cannot bind a {type(value).__name__}") from None


def identifier(name: str) -> exp.Identifier:
    """A quoted identifier (sqlglot escapes it per dialect)."""
    return exp.to_identifier(name, quoted=True)


def column(name: str, table: str | None = None) -> exp.Column:
    """A quoted column, optionally of a lambda variable or table alias (left unquoted)."""
    return exp.Column(this=identifier(name), table=exp.to_identifier(table) if table else None)


class Dialect:
    """One SQL engine's spelling of the few things the statements cannot share."""

    #: the sqlglot dialect name
    name: str = ""
    #: whether a kind has key tables (``keys.py``) and an index on the load number through which
    #: a page's rows are fetched once the page's load numbers are known
    keyed: bool = False

    #: An ``in`` set of more values than this is bound as one array value (``None``: a placeholder
    #: per value, however many).
    most_set_placeholders: int | None = None
    #: A connective (AND, OR) of more operands than this has its operands that are connectives
    #: of the other kind written ``(...) IS TRUE`` (``None``: never). DuckDB's expression
    #: rewriter takes time quadratic in the operands of an OR of ANDs (or an AND of ORs): 1,000
    #: ``(a AND b) OR ...`` took 2.5 s, 10,000 took 410 s. ``IS TRUE`` makes an unknown false,
    #: which changes no answer: the compiled condition is monotone above every connective
    #: (negations are pushed to the leaves, ``compile.py``), and a row or entry is kept only
    #: where the whole condition is true.
    most_bare_connectives: int | None = None

    def placeholder(self, name: str, value: object) -> exp.Expr:
        raise NotImplementedError

    def set_placeholder(self, name: str, values: Sequence[object]) -> exp.Expr:
        """The placeholder of ``values``, all of one type, bound as one array value."""
        raise NotImplementedError

    def table(self, table: str, database: str) -> exp.Table:
        raise NotImplementedError

    def create_statements(self, table: Table, database: str) -> list[exp.Expr]:
        raise NotImplementedError

    def columns_query(self, table: str, database: str) -> tuple[exp.Expr, dict[str, object]]:
        """A query of the columns of an existing table, in order, and its values: a row per column,
        its name first, then what :meth:`found_type` reads its type from."""
        raise NotImplementedError

    def engine_query(self, table: str, database: str) -> tuple[exp.Expr, dict[str, object]] | None:
        """A query of an existing table's storage engine (one row, its name), where the database
        has several (``None``: one kind of table only)."""
        return None

    #: The storage engines a table of this engine's may have (those that keep every row inserted)
    table_engines: frozenset[str] = frozenset()

    def found_type(self, row: tuple[object, ...]) -> str:
        """The type of a column of an existing table, as :meth:`type_text` spells it, from its
        row of :meth:`columns_query`."""
        raise NotImplementedError

    def type_text(self, column: Column | EntryColumn) -> str:
        """The type of ``column`` as the engine's catalog shows it for a table this engine made."""
        raise NotImplementedError

    def render(self, expression: exp.Expr) -> str:
        return expression.sql(dialect=self.name)

    def _type(self, column: Column | EntryColumn) -> exp.DataType:
        if isinstance(column, EntryColumn):
            members = [
                exp.ColumnDef(this=identifier(member.name), kind=self._type(member)) for member in column.members
            ]
            struct = exp.DataType(this=DType.STRUCT, expressions=members, nested=True, nullable=False)
            return exp.DataType(this=DType.ARRAY, expressions=[struct], nested=True, nullable=False)
        return exp.DataType(this=column.stored.dtype, nullable=column.nullable)

    def _columns(self, columns: Iterable[Column | EntryColumn], not_null: bool) -> list[exp.ColumnDef]:
        defs = []
        for each in columns:
            constraints = []
            if not_null and isinstance(each, Column) and not each.nullable:
                constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
            defs.append(exp.ColumnDef(this=identifier(each.name), kind=self._type(each), constraints=constraints))
        return defs


class DuckDB(Dialect):
    name = "duckdb"
    keyed = True
    most_bare_connectives = 16

    def placeholder(self, name: str, value: object) -> exp.Expr:
        value_type(value)
        return exp.Placeholder(this=name)

    def table(self, table: str, database: str) -> exp.Table:
        return exp.Table(this=identifier(table))

    def create_statements(self, table: Table, database: str) -> list[exp.Expr]:
        """The kind's table, the index on its load number, the table of its key runs and its key
        tables (``schema.KeyTable``)."""
        index = exp.Index(
            this=identifier(table.seq_index),
            table=self.table(table.name, database),
            params=exp.IndexParameters(columns=[exp.Ordered(this=column(SEQ))]),
        )
        return [
            self._create_table(table.name, table.columns, database),
            exp.Create(this=index, kind="INDEX", exists=True),
            self._create_table(table.runs.name, table.runs.columns, database),
            *(self._create_table(keys.name, keys.columns, database) for keys in table.key_tables),
        ]

    def _create_table(self, name: str, columns: Iterable[Column | EntryColumn], database: str) -> exp.Expr:
        schema = exp.Schema(this=self.table(name, database), expressions=self._columns(columns, True))
        return exp.Create(this=schema, kind="TABLE", exists=True)

    def columns_query(self, table: str, database: str) -> tuple[exp.Expr, dict[str, object]]:
        query = (
            exp.select(column("column_name"))
            .from_(exp.Table(this=identifier("columns"), db=identifier("information_schema")))
            .select(column("data_type"), column("is_nullable"))
            .where(exp.EQ(this=column("table_name"), expression=self.placeholder("p0", table)))
            .order_by(column("ordinal_position"))
        )
        return query, {"p0": table}

    def found_type(self, row: tuple[object, ...]) -> str:
        return f"{row[1]}{' NOT NULL' if row[2] == 'NO' else ''}"

    def type_text(self, column: Column | EntryColumn) -> str:
        if isinstance(column, EntryColumn):
            members = ", ".join(f"{member.name} {_DUCKDB_TYPES[member.stored.dtype]}" for member in column.members)
            return f"STRUCT({members})[]"
        return f"{_DUCKDB_TYPES[column.stored.dtype]}{'' if column.nullable else ' NOT NULL'}"


class ClickHouse(Dialect):
    name = "clickhouse"

    #: ClickHouse refuses a statement of more than 50,000 syntax nodes or 256 KiB: a placeholder
    #: per value, some 10,000 values of ``in`` sets would be past it.
    most_set_placeholders = 64

    def placeholder(self, name: str, value: object) -> exp.Expr:
        return exp.Placeholder(this=name, kind=exp.DataType(this=value_type(value), nullable=False))

    def set_placeholder(self, name: str, values: Sequence[object]) -> exp.Expr:
        element = exp.DataType(this=value_type(values[0]), nullable=False)
        kind = exp.DataType(this=DType.ARRAY, expressions=[element], nested=True, nullable=False)
        return exp.Placeholder(this=name, kind=kind)

    def table(self, table: str, database: str) -> exp.Table:
        return exp.Table(this=identifier(table), db=identifier(database))

    def create_statements(self, table: Table, database: str) -> list[exp.Expr]:
        schema = exp.Schema(this=self.table(table.name, database), expressions=self._columns(table.columns, False))
        order = exp.Tuple(expressions=[column(name) for name in table.order])
        properties = exp.Properties(expressions=[
            exp.EngineProperty(this=exp.to_identifier("MergeTree")),
            exp.Order(expressions=[exp.Ordered(this=order)]),
        ])
        return [
            exp.Create(this=exp.Table(this=identifier(database)), kind="DATABASE", exists=True),
            exp.Create(this=schema, kind="TABLE", exists=True, properties=properties),
        ]

    def columns_query(self, table: str, database: str) -> tuple[exp.Expr, dict[str, object]]:
        query = (
            exp.select(column("name"))
            .from_(exp.Table(this=identifier("columns"), db=identifier("system")))
            .where(exp.and_(
                exp.EQ(this=column("database"), expression=self.placeholder("p0", database)),
                exp.EQ(this=column("table"), expression=self.placeholder("p1", table)),
            ))
            .select(column("type"))
            .order_by(column("position"))
        )
        return query, {"p0": database, "p1": table}

    def engine_query(self, table: str, database: str) -> tuple[exp.Expr, dict[str, object]]:
        query = (
            exp.select(column("engine"))
            .from_(exp.Table(this=identifier("tables"), db=identifier("system")))
            .where(exp.and_(
                exp.EQ(this=column("database"), expression=self.placeholder("p0", database)),
                exp.EQ(this=column("name"), expression=self.placeholder("p1", table)),
            ))
        )
        return query, {"p0": database, "p1": table}

    #: The engine made here, and the same on a cluster or ClickHouse Cloud. Any other loses rows
    #: or order: a ``ReplacingMergeTree`` (or Collapsing, Summing ...) merges rows of equal keys
    #: away, ``Memory`` forgets them on restart, ``Null`` keeps none, ``Distributed`` takes no
    #: ``DELETE`` of a failed batch.
    table_engines = frozenset({"MergeTree", "ReplicatedMergeTree", "SharedMergeTree"})

    def found_type(self, row: tuple[object, ...]) -> str:
        return str(row[1])

    def type_text(self, column: Column | EntryColumn) -> str:
        if isinstance(column, EntryColumn):
            members = ", ".join(f"{member.name} {self.type_text(member)}" for member in column.members)
            return f"Array(Tuple({members}))"
        base = _CLICKHOUSE_TYPES[column.stored.dtype]
        return f"Nullable({base})" if column.nullable else base


DUCKDB = DuckDB()
CLICKHOUSE = ClickHouse()
