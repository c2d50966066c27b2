"""Staging tables for a load through several connections, and the swap that puts them in.

One transaction can only feed one COPY at a time, and a server's cores sit idle behind it. A
load through N streams COPYs some tables into look-alikes in a schema of their own
(``moeen_synth_stage``), each stream on its own connection, and builds their keys and indexes
there, in parallel. The load's one transaction then swaps them in: the empty public table is
dropped, the staged one moved into ``public``, and what hung on the old one (triggers,
policies of any table that read it, row-level security, grants, owner, comment, the views
over it) is put back from definitions read from the catalog just before. Foreign keys are
rebuilt and every check runs after the swap, inside that transaction: if anything fails,
``public`` is as it was and the staged tables are dropped.

Only tables whose dependants are of those kinds are staged (``unfit`` names anything else: a
publication, a materialized view, a rule, inheritance...). Staged rows are committed in their
own schema, outside the platform's; a load killed mid-way leaves that schema, which the next
load removes (a session lock tells a live stage from a dead one).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import namedtuple_row

from moeen_synth.db import migrate as migrations
from moeen_synth.errors import LoadError

SCHEMA = "moeen_synth_stage"
MOST_STREAMS = 4  # by default; the largest table's stream bounds the gain beyond
Statement = sql.SQL | sql.Composed
LOCK_ID = migrations.LOCK_ID + 1  # held (session-level) by the load that owns the stage

# Dependants of a table (or its row type) that the swap cannot carry over. Its own parts
# are made again (keys, indexes, defaults) or put back (triggers, policies, views); foreign
# keys from tables of its schema are rebuilt by the load (``db.bulk``); publications are
# named by ``unfit`` itself.
_FOREIGN_DEPENDANTS = """
SELECT t.relname, pg_describe_object(d.classid, d.objid, d.objsubid)
FROM pg_depend d
JOIN pg_class t ON t.oid = %(table)s::regclass
WHERE ((d.refclassid = 'pg_class'::regclass AND d.refobjid = t.oid)
       OR (d.refclassid = 'pg_type'::regclass AND d.refobjid = t.reltype))
  AND d.deptype <> 'i'
  AND NOT (d.classid = 'pg_constraint'::regclass AND EXISTS (
      SELECT 1 FROM pg_constraint c WHERE c.oid = d.objid
        AND (c.conrelid = t.oid OR (c.contype = 'f' AND c.connamespace = t.relnamespace))))
  AND NOT (d.classid = 'pg_publication_rel'::regclass)
  AND NOT (d.classid = 'pg_trigger'::regclass
           AND (SELECT tgrelid FROM pg_trigger WHERE oid = d.objid) = t.oid)
  AND NOT (d.classid = 'pg_policy'::regclass)
  AND NOT (d.classid = 'pg_attrdef'::regclass)
  AND NOT (d.classid = 'pg_class'::regclass
           AND (SELECT relkind FROM pg_class WHERE oid = d.objid) IN ('i', 'I'))
  AND NOT (d.classid = 'pg_rewrite'::regclass AND EXISTS (
      SELECT 1 FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class
      WHERE r.oid = d.objid AND v.relkind = 'v' AND v.oid <> t.oid))
"""

# Views over the tables, with what a view carries; each must itself have no dependants.
_VIEWS = """
SELECT DISTINCT v.oid, n.nspname, v.relname, pg_get_viewdef(v.oid), v.reloptions,
       pg_get_userbyid(v.relowner), obj_description(v.oid, 'pg_class')
FROM pg_depend d
JOIN pg_rewrite r ON r.oid = d.objid
JOIN pg_class v ON v.oid = r.ev_class
JOIN pg_namespace n ON n.oid = v.relnamespace
WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.refobjid = ANY(%(oids)s) AND v.relkind = 'v' AND v.oid <> d.refobjid
"""

_VIEW_DEPENDANTS = """
SELECT pg_describe_object(d.classid, d.objid, d.objsubid)
FROM pg_depend d
WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = %(view)s AND d.deptype <> 'i'
  AND NOT (d.classid = 'pg_rewrite'::regclass
           AND (SELECT ev_class FROM pg_rewrite WHERE oid = d.objid) = %(view)s)
"""

_TABLE_FACTS = """
SELECT c.relkind AS kind, c.relispartition AS partition, c.relreplident AS identity,
       c.reloptions AS options, pg_get_userbyid(c.relowner) AS owner,
       obj_description(c.oid, 'pg_class') AS comment,
       c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls,
       EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid OR i.inhparent = c.oid)
           AS inherits,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL)
           AS column_grants,
       EXISTS (SELECT 1 FROM pg_publication_rel p WHERE p.prrelid = c.oid) AS published,
       pg_has_role(c.relowner, 'USAGE') AS may_own
FROM pg_class c WHERE c.oid = %(table)s::regclass
"""

_KEYS = """
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = %(table)s::regclass AND contype IN ('p', 'u', 'x') ORDER BY contype, conname
"""

_INDEXES = """
SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x
WHERE x.indrelid = %(table)s::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid
                  AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x'))
ORDER BY 1
"""

# Triggers that COPY would fire (row or statement, on INSERT or TRUNCATE), or set to other
# than the default firing: a staged table takes its rows without them.
_COPY_TRIGGERS = """
SELECT tgname FROM pg_trigger
WHERE tgrelid = %(table)s::regclass AND NOT tgisinternal
  AND (tgtype & (4 | 32) <> 0 OR tgenabled <> 'O')
"""

# Publications that take every table, or every table of public (PostgreSQL 15 on).
_WHOLE_PUBLICATIONS = """
SELECT pubname FROM pg_publication WHERE puballtables
"""
_SCHEMA_PUBLICATIONS = """
SELECT p.pubname FROM pg_publication p
JOIN pg_publication_namespace n ON n.pnpubid = p.oid
WHERE n.pnnspid = 'public'::regnamespace
"""

# Policies on the tables, and policies of other tables whose expressions read them.
_POLICIES = """
SELECT DISTINCT p.oid, p.polrelid::regclass::text, p.polname, p.polpermissive, p.polcmd,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(r)) END
             FROM unnest(p.polroles) r),
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
FROM pg_policy p
WHERE p.polrelid = ANY(%(oids)s) OR EXISTS (
    SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_policy'::regclass AND d.objid = p.oid
      AND d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY(%(oids)s))
ORDER BY 2, 3
"""

_TRIGGERS = """
SELECT pg_get_triggerdef(oid) FROM pg_trigger
WHERE tgrelid = %(table)s::regclass AND NOT tgisinternal ORDER BY tgname
"""

_GRANTS = """
SELECT CASE WHEN a.grantee = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
       a.privilege_type, a.is_grantable
FROM pg_class c, aclexplode(c.relacl) a
WHERE c.oid = %(oid)s AND a.grantee <> c.relowner
"""

_COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}


@dataclass
class Build:
    """The keys and indexes a staged table gets once its rows are in, as SQL for the stream
    that loaded it (its search_path is the stage schema)."""

    table: str
    statements: list[str] = field(default_factory=list)


def suggested_streams(conn: psycopg.Connection[Any]) -> tuple[int, str]:
    """How many COPY streams suit the server, and why: half its cores (the other half
    builds indexes and runs the client), at most ``MOST_STREAMS``. A server on this machine
    (a local address or a socket) has this machine's cores; for another, the cores are not
    visible through SQL, and ``max_parallel_workers`` (which operators and managed services
    size to the cores) stands in for them."""
    row = conn.execute(
        "SELECT inet_server_addr() IS NULL OR host(inet_server_addr()) IN ('127.0.0.1', '::1'), "
        "current_setting('max_parallel_workers')::int"
    ).fetchone()
    assert row is not None
    local, parallel = bool(row[0]), int(row[1])
    cores, basis = (
        (os.cpu_count() or 1, "cores here") if local else (parallel, "max_parallel_workers")
    )
    streams = max(1, min(MOST_STREAMS, cores // 2))
    return streams, f"{streams} for {cores} {basis}"


def unfit(conn: psycopg.Connection[Any], tables: Sequence[str]) -> list[str]:
    """Why each of ``tables`` cannot be staged and swapped in (empty: all can)."""
    reasons = []
    for table in tables:
        facts = _facts(conn, table)
        if facts.kind != "r" or facts.partition or facts.inherits:
            reasons.append(f"{table} is partitioned or inherits")
        if facts.identity != "d":
            reasons.append(f"{table} has a replica identity of its own")
        if facts.column_grants:
            reasons.append(f"{table} has column privileges")
        if facts.published:
            reasons.append(f"{table} is in a publication")
        if not facts.may_own:
            reasons.append(f"{table} belongs to a role this one cannot act as")
        for _, what in conn.execute(_FOREIGN_DEPENDANTS, {"table": f"public.{table}"}):
            reasons.append(f"{what} depends on {table}")
        for (trigger,) in conn.execute(_COPY_TRIGGERS, {"table": f"public.{table}"}):
            reasons.append(
                f"trigger {trigger} on {table} fires on INSERT or TRUNCATE, or not as usual"
            )
    if tables:
        for (name,) in conn.execute(_WHOLE_PUBLICATIONS):
            reasons.append(f"publication {name} takes every table")
        has_schemas = conn.execute("SELECT to_regclass('pg_publication_namespace')").fetchone()
        if has_schemas and has_schemas[0]:
            for (name,) in conn.execute(_SCHEMA_PUBLICATIONS):
                reasons.append(f"publication {name} takes every table of public")
    oids = [_oid(conn, t) for t in tables]
    for view in conn.execute(_VIEWS, {"oids": oids}).fetchall():
        for (what,) in conn.execute(_VIEW_DEPENDANTS, {"view": view[0]}):
            reasons.append(f"{what} depends on the view {view[2]}")
    return reasons


def create(conn: psycopg.Connection[Any], tables: Sequence[str]) -> list[Build]:
    """Take the stage (removing one a dead load left), make an empty look-alike of each of
    ``tables`` in it, and return what each needs built after its COPY. ``conn`` is in
    autocommit; the lock it takes lasts until ``discard``."""
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_ID,)).fetchone()
    if not (row and row[0]):
        raise LoadError(
            "another load through several streams is running on this database; wait for it "
            "or load with --streams 1"
        )
    try:
        return _create(conn, tables)
    except BaseException as exc:
        discard(conn)
        if not isinstance(exc, psycopg.Error):
            raise
        reason = str(exc).strip().splitlines()[0]
        raise LoadError(
            f"could not make the staging schema {SCHEMA} ({reason}); a load through several "
            "streams needs a role that may create a schema in the database. Nothing was "
            "loaded; load with --streams 1"
        ) from exc


def _create(conn: psycopg.Connection[Any], tables: Sequence[str]) -> list[Build]:
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
    like = "INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING CONSTRAINTS "
    like += "INCLUDING STORAGE INCLUDING COMMENTS"
    builds = []
    for table in tables:
        facts = _facts(conn, table)
        options = (
            sql.SQL(" WITH ({})").format(sql.SQL(", ".join(facts.options)))
            if facts.options
            else sql.SQL("")
        )
        conn.execute(
            sql.SQL("CREATE TABLE {} (LIKE {} " + like + "){}").format(
                sql.Identifier(SCHEMA, table), sql.Identifier("public", table), options
            )
        )
        build = Build(table)
        for name, definition in conn.execute(_KEYS, {"table": f"public.{table}"}):
            build.statements.append(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ")
                .format(sql.Identifier(table), sql.Identifier(name))
                .as_string(conn)
                + definition
            )
        for (definition,) in conn.execute(_INDEXES, {"table": f"public.{table}"}):
            build.statements.append(_unqualified_index(conn, definition, table))
        build.statements.append(sql.SQL("ANALYZE {}").format(sql.Identifier(table)).as_string(conn))
        builds.append(build)
    return builds


def swap(conn: psycopg.Connection[Any], tables: Sequence[str]) -> None:
    """Inside the load's transaction: replace each (empty) public table of ``tables`` by its
    staged look-alike, with everything that hung on the old one put back."""
    oids = [_oid(conn, t) for t in tables]
    views = conn.execute(_VIEWS, {"oids": oids}).fetchall()
    policies = conn.execute(_POLICIES, {"oids": oids}).fetchall()
    after = []
    for view in views:
        after.append(_view_replay(conn, view))
        conn.execute(sql.SQL("DROP VIEW {}").format(sql.Identifier(view[1], view[2])))
    for _, table, name, *_ in policies:
        conn.execute(sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(name), sql.SQL(table)))
    for table, oid in zip(tables, oids, strict=True):
        replay = _table_replay(conn, table, oid)
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier("public", table)))
        conn.execute(
            sql.SQL("ALTER TABLE {} SET SCHEMA public").format(sql.Identifier(SCHEMA, table))
        )
        replay.run(conn)
    for policy in policies:
        conn.execute(_policy_statement(policy))
    for view_replay in after:
        view_replay.run(conn)


def discard(conn: psycopg.Connection[Any]) -> None:
    """Drop the stage (whatever a failed load left in it) and let go of it."""
    try:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))


def remove_abandoned(conn: psycopg.Connection[Any]) -> bool:
    """Drop a stage that no live load holds (a load killed mid-way left it); True if one
    was dropped. ``conn`` in autocommit."""
    row = conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", (SCHEMA,)).fetchone()
    if not (row and row[0]):
        return False
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_ID,)).fetchone()
    if not (row and row[0]):
        return False  # a load through several streams is using it
    discard(conn)
    return True


def _facts(conn: psycopg.Connection[Any], table: str) -> Any:
    """The public table's facts of ``_TABLE_FACTS``, by name."""
    with conn.cursor(row_factory=namedtuple_row) as cur:
        row = cur.execute(_TABLE_FACTS, {"table": f"public.{table}"}).fetchone()
    assert row is not None
    return row


def _oid(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute("SELECT %s::regclass::oid", (f"public.{table}",)).fetchone()
    assert row is not None
    return int(row[0])


def _unqualified_index(conn: psycopg.Connection[Any], definition: str, table: str) -> str:
    """An index definition of public.``table`` made to name the table unqualified, so it is
    built on the stage's look-alike (the stream's search_path)."""
    row = conn.execute("SELECT quote_ident('public') || '.' || quote_ident(%s)", (table,))
    found = row.fetchone()
    assert found is not None
    spelled = str(found[0])
    name = sql.Identifier(table).as_string(conn)
    # pg_get_indexdef spells names as quote_ident does: qualified, or not where visible.
    for qualified in (spelled, spelled.split(".", 1)[1]):
        pattern = re.compile(r" ON (ONLY )?" + re.escape(qualified) + " USING ")
        if pattern.search(definition):
            return pattern.sub(lambda m: f" ON {m.group(1) or ''}{name} USING ", definition, 1)
    raise LoadError(f"cannot read the definition of an index on {table}: {definition}")


class Grants:
    """An object's privileges, read before it is dropped, set again on the one that takes
    its place: what that one got by default (default privileges) is revoked first."""

    def __init__(self, conn: psycopg.Connection[Any], oid: int) -> None:
        self.default = _acl_is_null(conn, oid)
        self.old = conn.execute(_GRANTS, {"oid": oid}).fetchall()

    def apply(self, conn: psycopg.Connection[Any], relation: sql.Identifier) -> None:
        row = conn.execute(
            sql.SQL("SELECT {}::regclass::oid").format(sql.Literal(relation.as_string(conn)))
        ).fetchone()
        assert row is not None
        if self.default and _acl_is_null(conn, row[0]):
            return  # both the owner's alone, by default
        what = sql.SQL("TABLE {}").format(relation)
        conn.execute(sql.SQL("REVOKE ALL ON {} FROM PUBLIC").format(what))
        for grantee, _, _ in conn.execute(_GRANTS, {"oid": row[0]}).fetchall():
            conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(what, sql.SQL(grantee)))
        for grantee, privilege, grantable in self.old:
            conn.execute(
                sql.SQL("GRANT {} ON {} TO {}{}").format(
                    sql.SQL(privilege),
                    what,
                    sql.SQL(grantee),
                    sql.SQL(" WITH GRANT OPTION" if grantable else ""),
                )
            )


def _acl_is_null(conn: psycopg.Connection[Any], oid: int) -> bool:
    row = conn.execute("SELECT relacl IS NULL FROM pg_class WHERE oid = %s", (oid,)).fetchone()
    return bool(row and row[0])


@dataclass
class _Replay:
    """What an object carried, to put on the one that takes its place: statements that
    make or dress it, its privileges, then its comment and owner."""

    target: sql.Identifier
    statements: list[Statement]
    grants: Grants
    tail: list[Statement]

    def run(self, conn: psycopg.Connection[Any]) -> None:
        for statement in self.statements:
            conn.execute(statement)
        self.grants.apply(conn, self.target)
        for statement in self.tail:
            conn.execute(statement)


def _table_replay(conn: psycopg.Connection[Any], table: str, oid: int) -> _Replay:
    """What the public table carries besides columns, keys and indexes."""
    facts = _facts(conn, table)
    owner, comment, rls, force = facts.owner, facts.comment, facts.rls, facts.force_rls
    target = sql.Identifier("public", table)
    statements: list[Statement] = [
        sql.SQL(definition)
        for (definition,) in conn.execute(_TRIGGERS, {"table": f"public.{table}"})
    ]
    if rls:
        statements.append(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(target))
    if force:
        statements.append(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(target))
    tail: list[Statement] = []
    if comment is not None:
        tail.append(sql.SQL("COMMENT ON TABLE {} IS {}").format(target, sql.Literal(comment)))
    tail.append(sql.SQL("ALTER TABLE {} OWNER TO {}").format(target, sql.Identifier(owner)))
    return _Replay(target, statements, Grants(conn, oid), tail)


def _view_replay(conn: psycopg.Connection[Any], view: Sequence[Any]) -> _Replay:
    oid, schema, name, definition, options, owner, comment = view
    target = sql.Identifier(schema, name)
    create = sql.SQL("CREATE VIEW {}{} AS {}").format(
        target,
        sql.SQL(" WITH ({})").format(sql.SQL(", ".join(options))) if options else sql.SQL(""),
        sql.SQL(definition.rstrip().rstrip(";")),
    )
    tail: list[Statement] = []
    if comment is not None:
        tail.append(sql.SQL("COMMENT ON VIEW {} IS {}").format(target, sql.Literal(comment)))
    tail.append(sql.SQL("ALTER VIEW {} OWNER TO {}").format(target, sql.Identifier(owner)))
    return _Replay(target, [create], Grants(conn, oid), tail)


def _policy_statement(policy: Sequence[Any]) -> sql.Composed:
    _, table, name, permissive, command, roles, qual, check = policy
    statement = sql.SQL("CREATE POLICY {} ON {} AS {} FOR {} TO {}").format(
        sql.Identifier(name),
        sql.SQL(table),
        sql.SQL("PERMISSIVE" if permissive else "RESTRICTIVE"),
        sql.SQL(_COMMANDS[command]),
        sql.SQL(", ".join(roles)),
    )
    if qual is not None:
        statement += sql.SQL(" USING ({})").format(sql.SQL(qual))
    if check is not None:
        statement += sql.SQL(" WITH CHECK ({})").format(sql.SQL(check))
    return statement
