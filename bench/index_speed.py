"""Indexing speed against the encoder: `index add` of SciFact abstracts vs `encode` of the same chunks, same model.

    python bench/index_speed.py [--docs 1000] [--data ../shared/data/scifact] [--repeat 1]

Both run in this process on the same model files (each loaded once, load time excluded): first the chunks
`index add` would make are encoded with SentenceTransformer.encode (batch 64, its own length sorting), by
sentence-transformers loaded directly as a hand-written app would, then `index add` indexes the
same documents as Markdown files (title as heading) into a fresh index. The ratio is the cost of everything
that is not the encoder: reading, chunking, SQLite, FAISS, and how the chunks are batched.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.models import ModelHub, resolve_model  # noqa: E402
from bot.search import IndexManager  # noqa: E402
from bot.search.chunker import Chunker  # noqa: E402
from bot.search.loaders import discover, read_entry  # noqa: E402


def write_corpus(data: Path, folder: Path, count: int) -> int:
    folder.mkdir(parents=True)
    written = 0
    with open(data / "corpus.jsonl", encoding="utf-8") as corpus:
        for line in corpus:
            doc = json.loads(line)
            (folder / f"{doc['_id']}.md").write_text(f"# {doc['title']}\n\n{doc['text']}\n", encoding="utf-8")
            written += 1
            if written == count:
                break
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000, help="first N abstracts (0 = all)")
    shared = [root / "shared" / "data" / "scifact" for root in (ROOT.parent, ROOT.parent.parent)]  # checkout, worktree
    parser.add_argument("--data", default=str(next((path for path in shared if path.is_dir()), shared[0])))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nlpbot-index-speed-") as tmp:
        folder = Path(tmp) / "scifact"
        count = write_corpus(Path(args.data), folder, args.docs or -1)
        config_path = Path(tmp) / "config.toml"
        config_path.write_text('[search]\nindexes_dir = "indexes"\n', encoding="utf-8")
        config = load_config(config_path)
        settings = config.search
        handle = ModelHub(config).sentence_model(settings.embedding_model, batch_size=settings.batch_size)
        chunker = Chunker(tokenizer=handle.tokenizer, chunk_tokens=settings.chunk_tokens, overlap=settings.chunk_overlap)
        entries, _ = discover([str(folder)])
        loaded = [read_entry(entry) for entry in entries]  # (document, problem) here; a document before issue 15
        documents = [item[0] if isinstance(item, tuple) else item for item in loaded]
        texts = [chunk.embed_text for document in documents for chunk in chunker.split(document)]
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(resolve_model(settings.embedding_model, config=config).path), device="cpu")
        model.encode(texts[:64], batch_size=64)  # warm-up

        started = time.perf_counter()
        model.encode(texts, batch_size=settings.batch_size, show_progress_bar=False, normalize_embeddings=True)
        encode_s = time.perf_counter() - started

        manager = IndexManager(config, handle, progress=False)
        started = time.perf_counter()
        report = manager.open("bench").add([str(folder)])
        index_s = time.perf_counter() - started
        assert report.chunks_embedded == len(texts), (report.chunks_embedded, len(texts))
        print(json.dumps({"docs": count, "chunks": len(texts), "encode_s": round(encode_s, 1),
                          "index_add_s": round(index_s, 1), "ratio": round(index_s / encode_s, 2),
                          "load_avg_1min": round(os.getloadavg()[0], 1), "cpus": os.cpu_count()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
