"""A ``supabase/`` folder that drops into a Supabase project: the schema as one migration and
the rows as seed files of INSERT statements, which the Supabase CLI runs on ``supabase db
reset`` (its seed runner cannot run ``COPY ... FROM stdin``).

Seed files follow the platform's five seed groups (``01_roles_and_users.sql`` ...) and are
cut so that the CLI, which sends each file as one batch, never holds much at once: a
statement ends after ``STATEMENT_ROWS`` rows or once it passed ``STATEMENT_BYTES``; a file
ends at the first statement boundary past ``FILE_BYTES``, and the group goes on in
``NN_group_002.sql`` and so on, which sort after it. Cuts are counted over a whole table, so
the bytes never depend on the blocks. The files hold no psql meta-commands and no
transaction statements: the CLI makes each file one transaction. Sign-in accounts, when
asked for, come last (``06_auth_users.sql``), made from the loaded ``public.users``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth import catalogue
from moeen_synth.sinks.files import FileRecord, StreamFile
from moeen_synth.sinks.text_forms import insert_values

STATEMENT_ROWS = 500
STATEMENT_BYTES = 256 * 1024
FILE_BYTES = 16 * 1024 * 1024
SEED_DIR = "supabase/seed"
AUTH_FILE = "06_auth_users.sql"
SEED_GLOB = "./seed/*.sql"  # relative to supabase/, as config.toml's sql_paths are
# The CLI applies migrations in the order of this number; a fixed one keeps the bytes the
# same, and one from before any project's own migrations puts the platform's tables first.
MIGRATION = "supabase/migrations/20250101000000_moeen_platform.sql"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def config_lines() -> str:
    return f'[db.seed]\nenabled = true\nsql_paths = ["{SEED_GLOB}"]\n'


def readme(profile: str, sign_in: list[tuple[str, str]], password: str | None) -> str:
    """The folder's README: where it goes, the config lines, the sizes, who can sign in."""
    lines = [
        f"# moeen-synth: the {profile} data set for a Supabase project",
        "",
        "1. Copy the `supabase/` folder into your project (beside `supabase/config.toml`):",
        "   `cp -r supabase/. /path/to/project/supabase/`",
        "2. Add these lines to `supabase/config.toml` (replacing an existing `[db.seed]`):",
        "",
        "```toml",
        config_lines().rstrip("\n"),
        "```",
        "",
        "3. Run `supabase db reset`: the migration makes the platform's schema, then the seed",
        "   files run in sorted order, each as one transaction.",
        "",
        f"Seed files hold INSERT statements only (the CLI cannot run COPY), at most "
        f"{STATEMENT_ROWS} rows and about {STATEMENT_BYTES // 1024} KiB per statement; a file "
        f"ends at the first statement past {FILE_BYTES // (1024 * 1024)} MiB of rows and its "
        "group goes on in `NN_group_002.sql`. For millions of rows, load with "
        "`moeen-synth --profile P --dsn URL` (COPY) instead.",
    ]
    if sign_in:
        shown = password if password is not None else "the one given with --auth-password"
        lines += ["", f"Every user can sign in with e-mail and password ({shown}), e.g.:", ""]
        lines += [f"- {role}: {email}" for role, email in sign_in]
    return "\n".join(lines) + "\n"


class SupabaseSink:
    format = "supabase"
    interleaves = False  # a seed file holds each table's statements together

    def __init__(
        self,
        root: Path,
        merge_keys: dict[str, tuple[str, ...]],
        schema_sql: str,
        auth_sql: str | None,
        readme_text: str,
    ) -> None:
        self.root = root
        self.merge_keys = merge_keys
        self.auth_sql = auth_sql
        self.readme_text = readme_text
        self.done: list[FileRecord] = []
        migration = StreamFile(root, MIGRATION)
        migration.write(schema_sql.encode("utf-8"))
        self.done.append(migration.close())
        self.group = ""
        self.part = 0
        self.file: StreamFile | None = None
        self.file_bytes = 0  # bytes of rows in the current file
        self.open_statement = False  # the current file has an INSERT awaiting its end
        self.table = ""
        self.head = ""
        self.end_statement = ""
        self.rows = 0  # rows of the table written so far
        self.bytes = 0  # bytes of its rows so far
        # (rows, bytes) windows of the last row written: a change starts a statement.
        self.key: tuple[int, int] = (-1, -1)

    # files -------------------------------------------------------------------------
    def _name(self) -> str:
        stem = self.group.removesuffix(".sql")
        return f"{SEED_DIR}/{self.group if self.part == 1 else f'{stem}_{self.part:03d}.sql'}"

    def _close_file(self) -> None:
        if self.file is not None:
            if self.open_statement:
                self.file.write(self.end_statement.encode())
                self.open_statement = False
            self.done.append(self.file.close())
            self.file = None

    def _open_file(self, note: str) -> None:
        self._close_file()
        self.part += 1
        self.file_bytes = 0
        self.file = StreamFile(self.root, self._name())
        self.file.write(
            f"-- moeen-synth seed data: {self.group}, part {self.part}{note}\n".encode()
        )

    # the sink --------------------------------------------------------------------------
    def begin(self, table: str, columns: list[str], total: int) -> None:
        group = catalogue.BY_NAME[table].seed_file
        if group != self.group:
            self._close_file()
            self.group, self.part = group, 0
            self._open_file("")
        assert self.file is not None
        key = self.merge_keys.get(table)
        conflict = f"\nON CONFLICT ({', '.join(_ident(k) for k in key)}) DO NOTHING" if key else ""
        self.table = table
        self.head = (
            f"INSERT INTO {_ident(table)} ({', '.join(_ident(c) for c in columns)}) VALUES\n"
        )
        self.end_statement = conflict + ";\n"
        self.rows, self.bytes, self.key = 0, 0, (-1, -1)
        self.file.write(f"\n-- {table}: {total} rows\n".encode())

    def prepare(self, table: str, frame: pl.DataFrame) -> pl.Series:
        return insert_values(frame)

    def write(self, table: str, values: pl.Series, rows: int) -> None:
        n = values.len()
        if n == 0:
            return
        size = (values.str.len_bytes().cast(pl.Int64) + 2).to_numpy()  # row and separator
        before = np.cumsum(size) - size  # bytes of this block before each row
        by_rows = np.arange(self.rows, self.rows + n) // STATEMENT_ROWS
        by_bytes = (before + self.bytes) // STATEMENT_BYTES
        first = np.empty(n, dtype=bool)
        first[0] = (by_rows[0], by_bytes[0]) != self.key
        first[1:] = (by_rows[1:] != by_rows[:-1]) | (by_bytes[1:] != by_bytes[:-1])
        self.key = (int(by_rows[-1]), int(by_bytes[-1]))
        pos = 0
        while pos < n:
            # The file ends before the first statement that starts past FILE_BYTES in it.
            in_file = before[pos:] - before[pos] + self.file_bytes
            past = np.flatnonzero(first[pos:] & (in_file >= FILE_BYTES) & (in_file > 0))
            stop = pos + int(past[0]) if past.size else n
            if stop > pos:
                self._write_rows(values.slice(pos, stop - pos), first[pos:stop])
                self.file_bytes += int(size[pos:stop].sum())
            if stop < n:
                self._open_file(f" ({self.table} goes on)")
            pos = stop
        self.rows += n
        self.bytes += int(size.sum())

    def _write_rows(self, values: pl.Series, first: npt.NDArray[np.bool_]) -> None:
        assert self.file is not None
        text = (
            pl.DataFrame({"row": values, "first": first})
            .select(
                pl.when("first")
                .then(pl.lit(self.end_statement + self.head))
                .otherwise(pl.lit(",\n"))
                + pl.col("row")
            )
            .to_series()
        )
        joined: str = text.str.join("").item()
        if not self.open_statement:  # nothing to end: the file or table starts here
            joined = joined.removeprefix(self.end_statement)
        self.file.write(joined.encode("utf-8"))
        self.open_statement = True

    def end(self, table: str) -> list[FileRecord]:
        if self.file is not None and self.open_statement:
            self.file.write(self.end_statement.encode())
            self.open_statement = False
        return []  # a seed file holds several tables; it is finished in finish()

    def finish(self) -> list[FileRecord]:
        self._close_file()
        if self.auth_sql is not None:
            auth = StreamFile(self.root, f"{SEED_DIR}/{AUTH_FILE}")
            auth.write(self.auth_sql.encode("utf-8"))
            self.done.append(auth.close())
        guide = StreamFile(self.root, "README.md")
        guide.write(self.readme_text.encode("utf-8"))
        self.done.append(guide.close())
        return self.done
