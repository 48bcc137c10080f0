"""`nlpbot index add` killed in the middle keeps its committed batches, and the same command finishes the job."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bot.config import load_config
from bot.search import IndexManager

from tests.support.documents import write_config, write_files

REPO = Path(__file__).resolve().parents[2]
TOPICS = ["password resets", "the cafeteria", "business travel", "tomato plants", "sourdough bread", "parking",
          "the printer", "holidays", "expense reports", "the fire drill", "badges", "the VPN"]


def notes(count: int) -> dict[str, str]:
    return {f"notes/note-{i:03d}.md": f"# Note {i}\n\nThis note number {i} is about {TOPICS[i % len(TOPICS)]}; "
            f"ask the office team (room {100 + i}) about it." for i in range(count)}


def index_add(folder: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot", "index", "add", "--no-progress", *args,
                             "--config", str(folder / "config.toml")], cwd=folder,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def committed_sources(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
        try:
            return connection.execute("SELECT COUNT(*) FROM sources").fetchone()[0]
        except sqlite3.OperationalError:
            return 0  # the schema is not written yet


def contents(index) -> dict[tuple[str, int], tuple[str, np.ndarray]]:
    """(source, position) -> (chunk text, vector): what an index holds, whatever its chunk ids."""
    rows = index.store.db.execute("SELECT id, source, position, text FROM chunks").fetchall()
    vectors = index.vectors().vectors(np.asarray([row[0] for row in rows]))
    return {(row[1], row[2]): (row[3], vector) for row, vector in zip(rows, vectors)}


def test_index_add_killed_mid_run_keeps_its_batches_and_the_rerun_embeds_only_the_rest(tmp_path, embedder, monkeypatch):
    write_files(tmp_path, notes(60))
    write_config(tmp_path, commit_chunks=5, batch_size=5)
    db = tmp_path / "indexes" / "docs" / "chunks.sqlite"

    first = index_add(tmp_path, "notes")
    deadline = time.monotonic() + 180
    while committed_sources(db) < 10 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL, first.stderr.read()

    config = load_config(tmp_path / "config.toml")
    index = IndexManager(config, embedder, progress=False).open()
    stats = index.stats()
    kept = stats["sources"]
    assert 10 <= kept < 60 and kept % 5 == 0  # whole batches only
    assert stats["chunks"] == stats["vectors"] == kept
    assert index.search("who knows about the cafeteria?", k=3)  # loadable and searchable between batches
    index.close()

    second = index_add(tmp_path, "notes")
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert f"docs: {60 - kept} added, 0 updated, {kept} unchanged, 0 removed, 0 failed; " \
           f"{60 - kept} chunks embedded" in out

    (tmp_path / "reference").mkdir()
    reference = load_config(write_config(tmp_path / "reference", indexes_dir=str(tmp_path / "reference-indexes")))
    monkeypatch.chdir(tmp_path)  # sources are named as added: relative to the working directory, as the CLI ran
    uninterrupted = IndexManager(reference, embedder, progress=False).open()
    assert uninterrupted.add(["notes"]).chunks_embedded == 60
    resumed = IndexManager(config, embedder, progress=False).open()
    expected, got = contents(uninterrupted), contents(resumed)
    assert got.keys() == expected.keys()
    for key, (text, vector) in expected.items():
        assert got[key][0] == text
        np.testing.assert_allclose(got[key][1], vector, atol=1e-5)
    assert [hit.source for hit in resumed.search("sourdough bread", k=5)] == \
           [hit.source for hit in uninterrupted.search("sourdough bread", k=5)]
