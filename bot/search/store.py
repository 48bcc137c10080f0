"""The SQLite side of an index: sources, chunks and the pointer to the FAISS file they match."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from bot.search.chunker import Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY, content_hash TEXT NOT NULL, mtime REAL, size INTEGER,
    kind TEXT NOT NULL, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL REFERENCES sources(source) ON DELETE CASCADE,
    position INTEGER NOT NULL, text TEXT NOT NULL, heading TEXT NOT NULL, char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL, hash TEXT NOT NULL, metadata TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_source ON chunks(source, position);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class SourceRow:
    source: str
    content_hash: str
    mtime: float | None
    size: int | None
    kind: str
    added_at: float


@dataclass(frozen=True)
class ChunkRow:
    id: int
    source: str
    position: int
    text: str
    heading: str
    metadata: dict[str, Any]


class ChunkStore:
    """One SQLite file per index; every write is one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        self._add_channel_column()

    def _add_channel_column(self) -> None:
        """Chunks remember the Slack channel they came from (NULL for files), so search can show them only to
        that channel's members. Older indexes get the column, filled from the metadata they already keep."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(chunks)")}
        if "channel" not in columns:
            with self.transaction() as db:
                db.execute("ALTER TABLE chunks ADD COLUMN channel TEXT")
                db.execute("UPDATE chunks SET channel = json_extract(metadata, '$.channel') "
                           "WHERE source LIKE 'slack://%' AND source NOT LIKE 'slack://file/%'")
        self.db.execute("CREATE INDEX IF NOT EXISTS chunks_by_channel ON chunks(channel)")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; any exception (or a crash) rolls everything back."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- meta: the generation number and the FAISS file it names ------------------------------------
    def meta(self) -> dict[str, Any]:
        return {key: json.loads(value) for key, value in self.db.execute("SELECT key, value FROM meta")}

    def generation(self) -> int:
        """The current write generation alone: read on every query, so it is one small lookup."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return json.loads(row[0]) if row else 0

    def set_meta(self, **values: Any) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                            [(key, json.dumps(value)) for key, value in values.items()])

    # -- sources ----------------------------------------------------------------------------------
    def sources(self) -> dict[str, SourceRow]:
        rows = self.db.execute("SELECT source, content_hash, mtime, size, kind, added_at FROM sources")
        return {row[0]: SourceRow(*row) for row in rows}

    def source_stats(self) -> list[tuple[str, str, int, float]]:
        """(source, kind, chunk count, added time) for every source, by name."""
        return self.db.execute(
            "SELECT s.source, s.kind, COUNT(c.id), s.added_at FROM sources s LEFT JOIN chunks c ON c.source = s.source "
            "GROUP BY s.source ORDER BY s.source").fetchall()

    def touch(self, source: str, *, mtime: float | None, size: int | None) -> None:
        self.db.execute("UPDATE sources SET mtime = ?, size = ? WHERE source = ?", (mtime, size, source))

    def chunk_ids_of(self, sources: list[str]) -> list[int]:
        ids: list[int] = []
        for start in range(0, len(sources), 500):
            part = sources[start:start + 500]
            marks = ",".join("?" * len(part))
            ids += [row[0] for row in self.db.execute(f"SELECT id FROM chunks WHERE source IN ({marks})", part)]
        return ids

    def delete_sources(self, sources: list[str]) -> None:
        self.db.executemany("DELETE FROM sources WHERE source = ?", [(source,) for source in sources])

    def put_source(self, row: SourceRow, chunks: list[Chunk]) -> list[int]:
        """Replace a source and its chunks; returns the new chunk ids, in chunk order."""
        self.db.execute("DELETE FROM sources WHERE source = ?", (row.source,))
        self.db.execute("INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?)",
                        (row.source, row.content_hash, row.mtime, row.size, row.kind, row.added_at or time.time()))
        ids = []
        for chunk in chunks:
            channel = chunk.metadata.get("channel") if row.kind == "slack" else None
            cursor = self.db.execute(
                "INSERT INTO chunks(source, position, text, heading, char_start, char_end, hash, metadata, channel) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (chunk.source, chunk.position, chunk.text, chunk.heading, chunk.start, chunk.end, chunk.hash,
                 json.dumps(chunk.metadata, sort_keys=True, default=str), channel))
            ids.append(int(cursor.lastrowid))
        return ids

    # -- chunks -----------------------------------------------------------------------------------
    def chunks(self, ids: list[int]) -> dict[int, ChunkRow]:
        found: dict[int, ChunkRow] = {}
        for start in range(0, len(ids), 500):
            part = [int(i) for i in ids[start:start + 500]]
            marks = ",".join("?" * len(part))
            query = f"SELECT id, source, position, text, heading, metadata FROM chunks WHERE id IN ({marks})"
            for row in self.db.execute(query, part):
                found[row[0]] = ChunkRow(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]))
        return found

    def all_chunk_texts(self) -> tuple[list[int], list[str]]:
        ids, texts, _ = self.all_chunks()
        return ids, texts

    def all_chunks(self) -> tuple[list[int], list[str], list[str]]:
        """Every chunk's id, "heading\ntext" and source, in id order."""
        rows = self.db.execute("SELECT id, heading, text, source FROM chunks ORDER BY id").fetchall()
        return ([row[0] for row in rows], [f"{row[1]}\n{row[2]}" if row[1] else row[2] for row in rows],
                [row[3] for row in rows])

    def count_chunks(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def channels(self) -> list[str]:
        """The Slack channels whose messages this index holds."""
        return [row[0] for row in self.db.execute("SELECT DISTINCT channel FROM chunks WHERE channel IS NOT NULL")]

    def filter_ids(self, *, source: str | None = None, metadata: dict[str, Any] | None = None,
                   channels: list[str] | None = None) -> list[int]:
        """Chunk ids whose source matches a glob (or starts with a prefix) and whose metadata has these values;
        with `channels`, only chunks from files and folders or from one of these channels."""
        where, values = [], []
        if channels is not None:
            where.append(f"(channel IS NULL OR channel IN ({','.join('?' * len(channels)) or 'NULL'}))")
            values += list(channels)
        if source:
            where.append("(source GLOB ? OR substr(source, 1, ?) = ?)")
            values += [source, len(source), source]
        for key, value in (metadata or {}).items():
            where.append("json_extract(metadata, ?) = ?")
            values += [f'$."{key}"', value if isinstance(value, (str, int, float)) else json.dumps(value)]
        query = "SELECT id FROM chunks" + (" WHERE " + " AND ".join(where) if where else "")
        return [row[0] for row in self.db.execute(query, values)]

    def chunk_hashes_of(self, source: str) -> dict[str, int]:
        """Content hash -> chunk id of a source's chunks, so unchanged chunks of a changed file keep their vectors."""
        return {row[0]: row[1] for row in self.db.execute("SELECT hash, id FROM chunks WHERE source = ?", (source,))}
