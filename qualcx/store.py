"""The project store: one SQLite database that qualcx manages.

All writes go through :meth:`Store.transaction`, so a failed step leaves the store as it was.
Near misses (codes the machine scored below their threshold) have their own table, not rows in
``codings``: whatever counts, exports or compares codings never sees them.
The researcher's names for themes live in ``theme_names``, apart from ``themes`` (which every
themes run replaces): a name is a human decision, never deleted by a machine run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .errors import ProjectError, SchemaVersionError

SCHEMA_VERSION = 5

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS interviews (
    id TEXT PRIMARY KEY, file TEXT NOT NULL, sha256 TEXT NOT NULL, text TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', ordinal INTEGER NOT NULL DEFAULT 0,
    warnings TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY, interview_id TEXT NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL, speaker TEXT NOT NULL, role TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, question_id TEXT,
    start_time REAL, end_time REAL,
    UNIQUE (interview_id, idx));
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY, interview_id TEXT NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
    turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
    UNIQUE (interview_id, idx));
CREATE TABLE IF NOT EXISTS codings (
    id INTEGER PRIMARY KEY, segment_id INTEGER REFERENCES segments(id) ON DELETE SET NULL,
    interview_id TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL, code TEXT NOT NULL, coder TEXT NOT NULL, is_machine INTEGER NOT NULL,
    score REAL, evidence TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL,
    run_id INTEGER);
CREATE INDEX IF NOT EXISTS codings_segment ON codings(segment_id);
CREATE TABLE IF NOT EXISTS themes (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, label TEXT NOT NULL,
    keywords TEXT NOT NULL, parent_code TEXT, ordinal INTEGER NOT NULL, run_id INTEGER,
    machine_label TEXT NOT NULL DEFAULT '', name_id INTEGER,
    keyword_words TEXT NOT NULL DEFAULT '{}', label_reason TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS theme_names (
    id INTEGER PRIMARY KEY, label TEXT NOT NULL, parent_code TEXT, members TEXT NOT NULL,
    machine_label TEXT NOT NULL, theme_key TEXT NOT NULL, named_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS theme_segments (
    theme_id INTEGER NOT NULL REFERENCES themes(id) ON DELETE CASCADE,
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    probability REAL, PRIMARY KEY (theme_id, segment_id));
CREATE TABLE IF NOT EXISTS embeddings (
    text_hash TEXT NOT NULL, model TEXT NOT NULL, dim INTEGER NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (text_hash, model));
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, command TEXT NOT NULL, settings TEXT NOT NULL, versions TEXT NOT NULL,
    started_at TEXT NOT NULL, finished_at TEXT, summary TEXT);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY, segment_id INTEGER REFERENCES segments(id) ON DELETE SET NULL,
    interview_id TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL, code TEXT NOT NULL, coder TEXT NOT NULL, source TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rejections_segment ON rejections(segment_id);
CREATE TABLE IF NOT EXISTS near_misses (
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    code TEXT NOT NULL, coder TEXT NOT NULL, score REAL NOT NULL, threshold REAL NOT NULL,
    evidence TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL,
    PRIMARY KEY (segment_id, code, coder));
CREATE TABLE IF NOT EXISTS redactions (
    kind TEXT NOT NULL, original TEXT NOT NULL, placeholder TEXT NOT NULL,
    PRIMARY KEY (kind, original));
"""

# In-place upgrades: version -> statements that bring a store of that version one step up.
MIGRATIONS = {
    1: ["ALTER TABLE turns ADD COLUMN start_time REAL",
        "ALTER TABLE turns ADD COLUMN end_time REAL",
        "CREATE TABLE IF NOT EXISTS redactions (kind TEXT NOT NULL, original TEXT NOT NULL, "
        "placeholder TEXT NOT NULL, PRIMARY KEY (kind, original))",
        "CREATE TABLE IF NOT EXISTS rejections (id INTEGER PRIMARY KEY, segment_id INTEGER "
        "REFERENCES segments(id) ON DELETE SET NULL, interview_id TEXT NOT NULL, start INTEGER "
        "NOT NULL, \"end\" INTEGER NOT NULL, text TEXT NOT NULL, code TEXT NOT NULL, coder TEXT "
        "NOT NULL, source TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS rejections_segment ON rejections(segment_id)"],
    2: ["CREATE TABLE IF NOT EXISTS near_misses (segment_id INTEGER NOT NULL REFERENCES "
        "segments(id) ON DELETE CASCADE, code TEXT NOT NULL, coder TEXT NOT NULL, score REAL NOT "
        "NULL, threshold REAL NOT NULL, evidence TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT "
        "NULL, PRIMARY KEY (segment_id, code, coder))"],
    3: ["ALTER TABLE themes ADD COLUMN machine_label TEXT NOT NULL DEFAULT ''",
        "UPDATE themes SET machine_label = label",
        "ALTER TABLE themes ADD COLUMN name_id INTEGER",
        "CREATE TABLE IF NOT EXISTS theme_names (id INTEGER PRIMARY KEY, label TEXT NOT NULL, "
        "parent_code TEXT, members TEXT NOT NULL, machine_label TEXT NOT NULL, theme_key TEXT NOT "
        "NULL, named_at TEXT NOT NULL)"],
    4: ["ALTER TABLE themes ADD COLUMN keyword_words TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE themes ADD COLUMN label_reason TEXT NOT NULL DEFAULT '[]'"],
}


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Store:
    """A connection to a project's SQLite database."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA foreign_keys = ON")
            self._check_schema()
        except sqlite3.DatabaseError as exc:
            raise ProjectError(f"{self.path}: not a qualcx project database ({exc}); move it away "
                               "and run 'qualcx ingest' to rebuild it") from exc

    def _check_schema(self):
        has_meta = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
        if has_meta:
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row["value"]) if row else None
            if version is not None and version < SCHEMA_VERSION and all(
                    v in MIGRATIONS for v in range(version, SCHEMA_VERSION)):
                self._migrate(version)
                version = SCHEMA_VERSION
            if version != SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"{self.path}: project store has schema version {version}, but this qualcx "
                    f"reads version {SCHEMA_VERSION}; use the qualcx version that made it, or move "
                    "the .qualcx folder away and re-run 'qualcx run' (human codes: export them first)")
            return
        with self.transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _migrate(self, version: int):
        """Upgrade an older store in place, keeping every interview and human code."""
        with self.transaction() as db:
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    db.execute(statement)
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                       (str(SCHEMA_VERSION),))

    def meta_value(self, key: str) -> str | None:
        """A value from the store's ``meta`` table, or None."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one transaction: all of it is written, or none."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self):
        self.db.close()

    # -- queries used by several stages -------------------------------------------------
    def interviews(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM interviews ORDER BY ordinal, id").fetchall()

    def speakers(self) -> list[str]:
        """Every speaker label of the study's turns ("Interviewer", "Jonas"), sorted."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT speaker FROM turns ORDER BY 1")]

    def respondent_segments(self) -> list[sqlite3.Row]:
        """Respondent segments in interview and reading order, with their turn's speaker and
        offsets."""
        return self.db.execute(
            """SELECT s.*, t.speaker, t.idx AS turn_idx, t.question_id, t.id AS turn_id,
                      t.start AS turn_start, t."end" AS turn_end
               FROM segments s JOIN turns t ON t.id = s.turn_id
               JOIN interviews i ON i.id = s.interview_id
               WHERE t.role = 'respondent' ORDER BY i.ordinal, i.id, s.idx""").fetchall()

    def follow_ups(self) -> dict[int, str]:
        """Per respondent turn id, the interviewer's turn before it in its interview when that
        turn is a follow-up (not linked to a guide question): "Were you working during the
        February outage?". "" after a guide question, or when the respondent speaks first."""
        out: dict[int, str] = {}
        last: dict[str, str] = {}
        for row in self.db.execute("SELECT id, interview_id, role, text, question_id FROM turns "
                                   "ORDER BY interview_id, idx"):
            if row["role"] == "respondent":
                out[row["id"]] = last.get(row["interview_id"], "")
            else:
                last[row["interview_id"]] = "" if row["question_id"] else row["text"]
        return out

    def codings(self, segment_ids: Iterable[int] | None = None) -> list[sqlite3.Row]:
        rows = self.db.execute(
            "SELECT * FROM codings WHERE segment_id IS NOT NULL "
            "ORDER BY segment_id, is_machine, code, coder").fetchall()
        if segment_ids is None:
            return rows
        wanted = set(segment_ids)
        return [r for r in rows if r["segment_id"] in wanted]

    def human_codings(self, coder: str | None = None) -> list[sqlite3.Row]:
        """Human codings attached to a segment, optionally of one coder."""
        sql = "SELECT * FROM codings WHERE is_machine = 0 AND segment_id IS NOT NULL"
        args: tuple = ()
        if coder is not None:
            sql += " AND coder = ?"
            args = (coder,)
        return self.db.execute(sql + " ORDER BY segment_id, code, coder", args).fetchall()

    def rejections(self, segment_ids: Iterable[int] | None = None) -> list[sqlite3.Row]:
        """Codes a human coder rejected on a segment (from ``qualcx review --import``)."""
        rows = self.db.execute("SELECT * FROM rejections WHERE segment_id IS NOT NULL "
                               "ORDER BY segment_id, code, coder").fetchall()
        if segment_ids is None:
            return rows
        wanted = set(segment_ids)
        return [r for r in rows if r["segment_id"] in wanted]

    def near_misses(self, segment_id: int) -> list[sqlite3.Row]:
        """The codes that fell short of their threshold on a segment at the last coding run,
        best first."""
        return self.db.execute("SELECT * FROM near_misses WHERE segment_id = ? "
                               "ORDER BY score DESC, code, coder", (segment_id,)).fetchall()

    # -- embedding cache -------------------------------------------------------------
    def cached_embeddings(self, hashes: list[str], model: str) -> dict[str, np.ndarray]:
        out = {}
        for i in range(0, len(hashes), 500):
            chunk = hashes[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                    f"SELECT text_hash, vector FROM embeddings WHERE model = ? "
                    f"AND text_hash IN ({marks})", [model, *chunk]):
                out[row["text_hash"]] = np.frombuffer(row["vector"], dtype=np.float32)
        return out

    def save_embeddings(self, items: dict[str, np.ndarray], model: str):
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)",
                [(h, model, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
                 for h, v in items.items()])

    # -- runs ------------------------------------------------------------------------
    def start_run(self, command: str, settings: dict, versions: dict, now: str) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO runs (command, settings, versions, started_at) VALUES (?, ?, ?, ?)",
                (command, json.dumps(settings, sort_keys=True), json.dumps(versions, sort_keys=True),
                 now))
            return cur.lastrowid

    def finish_run(self, run_id: int, now: str, summary: dict):
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished_at = ?, summary = ? WHERE id = ?",
                       (now, json.dumps(summary, sort_keys=True), run_id))
