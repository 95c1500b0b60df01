"""SQL backends: the record-source seam over DuckDB, chDB and ClickHouse (``docs/backends.md``).

``backend.connect`` opens the database a backend URL names (``url.py``), creates the tables of
the three record kinds when they are missing (``schema.py``, DDL per dialect in ``dialects.py``)
and returns a ``Backend``: one ``SqlSource`` per kind (``source.py``), answering filter ASTs with
SQL compiled by sqlglot (``compile.py``, ``statements.py``) and run through a thin adapter
(``connection.py``). ``Engine.connect(url)`` is the public way in.

Importing this package (and ``url.py``) needs none of the optional packages: sqlglot, pyarrow
and the database drivers are imported when a database is opened.
"""
