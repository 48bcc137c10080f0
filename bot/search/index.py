"""One named document index: incremental, crash-safe writes and hybrid search over its chunks."""

from __future__ import annotations

import fcntl
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from bot.errors import UserInputError
from bot.search import writer
from bot.search.answer import Answer, best_sentences
from bot.search.chunker import Chunker
from bot.search.embedding import Embedder, embed_texts, model_name
from bot.search.errors import IndexCorrupted, SearchIndexError
from bot.search.hybrid import Hit, KeywordIndex, reciprocal_rank_fusion
from bot.search.loaders import Document
from bot.search.settings import SearchSettings
from bot.search.store import ChunkStore, SourceRow
from bot.search.vectors import AnnParams, VectorIndex, file_checksum
from bot.search.writer import AddReport, Pending

MODES = ("hybrid", "dense", "keyword")


class DocumentIndex:
    """A folder holding `chunks.sqlite` and `vectors-GENERATION.faiss`; the db names the FAISS file it matches.

    Example::

        index = IndexManager(config, embed).open("docs")
        index.add(["handbook/"])
        index.search("how do I reset my password?", k=5)
    """

    def __init__(self, folder: Path, *, settings: SearchSettings, embedder: Embedder | None = None,
                 progress: bool | None = None) -> None:
        self.folder = folder
        self.name = folder.name
        self.settings = settings
        self.embedder = embedder
        self.progress = progress
        self.chunker = Chunker(tokenizer=getattr(embedder, "tokenizer", None),
                               chunk_tokens=settings.chunk_tokens, overlap=settings.chunk_overlap)
        self.params = AnnParams(settings.ann_threshold, settings.ann_kind, settings.hnsw_m,
                                settings.hnsw_ef_search, settings.ivf_nprobe, settings.recall_sample)
        folder.mkdir(parents=True, exist_ok=True)
        self.store = ChunkStore(folder / "chunks.sqlite")
        self._lock = threading.RLock()
        self._loaded: tuple[int, VectorIndex | None, KeywordIndex | None] = (-1, None, None)
        self.vectors()  # a corrupted or inconsistent index is reported now, not at the first query

    # -- reading ----------------------------------------------------------------------------------
    def vectors(self) -> VectorIndex | None:
        """The FAISS index matching the db's current generation (reloaded when another process wrote)."""
        with self._lock:
            if self.store.generation() != self._loaded[0]:
                meta = self.store.meta()
                self._loaded = (meta.get("generation", 0), self._load_vectors(meta), None)
            return self._loaded[1]

    def _load_vectors(self, meta: dict[str, Any]) -> VectorIndex | None:
        if not meta.get("vectors_file"):
            return None
        path = self.folder / meta["vectors_file"]
        rebuild = f"delete {self.folder} and add the documents again"
        if not path.exists():
            raise IndexCorrupted(f"index {self.name!r}: {path.name} is missing; {rebuild}")
        if file_checksum(path) != meta["checksum"]:
            raise IndexCorrupted(f"index {self.name!r}: {path} is corrupted (its checksum does not match); {rebuild}")
        try:
            vectors = VectorIndex.load(path, self.params)
        except RuntimeError as exc:
            raise IndexCorrupted(f"index {self.name!r}: {path} cannot be read ({exc}); {rebuild}") from None
        if vectors.size != self.store.count_chunks():
            raise IndexCorrupted(f"index {self.name!r}: {vectors.size} vectors but {self.store.count_chunks()} chunks; {rebuild}")
        return vectors

    def keywords(self) -> KeywordIndex:
        with self._lock:
            vectors = self.vectors()
            generation, _, keywords = self._loaded
            if keywords is None:
                keywords = KeywordIndex(*self.store.all_chunk_texts())
                self._loaded = (generation, vectors, keywords)
            return keywords

    def search(self, query: str, k: int = 5, filters: dict[str, Any] | None = None, *, mode: str = "hybrid") -> list[Hit]:
        """The k best chunks for `query`, best first; `filters` ({"source": glob or prefix, "metadata": {...}})
        narrow the candidates before the cut, so k hits come back whenever k chunks match them."""
        query = query.strip()
        if not query:
            raise UserInputError("the search query is empty")
        if mode not in MODES:
            raise UserInputError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        vectors = self.vectors()
        if vectors is None or not vectors.size:
            return []
        allowed = self._allowed(filters)
        if allowed is not None and not len(allowed):
            return []
        wanted = max(self.settings.candidates, k)
        query_vector = embed_texts(self._embedder(), [query], batch_size=1, progress=False)
        dense_scores, dense_ids = vectors.search(query_vector, wanted, allowed=allowed)
        similarity = {int(i): float(s) for s, i in zip(dense_scores[0], dense_ids[0]) if i >= 0}
        dense = list(similarity)
        keyword = [chunk_id for chunk_id, _ in self.keywords().top(query, wanted, allowed=allowed)]
        if mode == "dense":
            ranked = [(chunk_id, similarity[chunk_id]) for chunk_id in dense]
        elif mode == "keyword":
            ranked = [(chunk_id, float(len(keyword) - rank)) for rank, chunk_id in enumerate(keyword)]
        else:
            ranked = reciprocal_rank_fusion([dense, keyword], k=self.settings.rrf_k)
        ranked = ranked[:k]
        rows = self.store.chunks([chunk_id for chunk_id, _ in ranked])
        missing = [chunk_id for chunk_id, _ in ranked if chunk_id not in similarity]
        if missing:
            similarity.update(zip(missing, (vectors.vectors(np.asarray(missing)) @ query_vector[0]).tolist()))
        return [Hit(row.source, row.position, round(score, 6), row.text,
                    {"heading": row.heading, "similarity": round(similarity[chunk_id], 4),
                     **({"metadata": row.metadata} if row.metadata else {})})
                for chunk_id, score in ranked if (row := rows.get(chunk_id))]

    def _allowed(self, filters: dict[str, Any] | None) -> np.ndarray | None:
        if not filters:
            return None
        unknown = set(filters) - {"source", "metadata"}
        if unknown:
            raise UserInputError(f"unknown search filter {', '.join(sorted(unknown))}; filters are source and metadata")
        ids = self.store.filter_ids(source=filters.get("source"), metadata=filters.get("metadata"))
        return np.asarray(ids, dtype=np.int64)

    def answer(self, question: str, k: int = 5, filters: dict[str, Any] | None = None) -> Answer:
        """The best answering sentences of the top k chunks, or an answer with found=False ("I don't know")."""
        hits = self.search(question, k, filters)
        return best_sentences(question, hits, self._embedder(), min_score=self.settings.min_score,
                              max_sentences=self.settings.answer_sentences)

    def stats(self) -> dict[str, Any]:
        meta = self.store.meta()
        vector_stats = meta.get("stats", {"vectors": 0, "kind": "flat"})
        files = [path for path in self.folder.iterdir() if path.is_file()]
        return {"name": self.name, "sources": len(self.store.sources()), "chunks": self.store.count_chunks(),
                **vector_stats, "model": meta.get("model"), "generation": meta.get("generation", 0),
                "updated_at": meta.get("updated_at"), "bytes": sum(path.stat().st_size for path in files)}

    def sources(self) -> list[dict[str, Any]]:
        return [{"source": source, "kind": kind, "chunks": chunks, "added_at": added}
                for source, kind, chunks, added in self.store.source_stats()]

    def _embedder(self) -> Embedder:
        if self.embedder is None:
            raise SearchIndexError(f"index {self.name!r} was opened without an embedding model; searching needs one")
        return self.embedder

    def close(self) -> None:
        self.store.close()

    # -- writing: what changed is worked out in writer.py, applied here --------------------------------
    def add(self, paths: list[str | Path], *, remove_vanished: bool = True) -> AddReport:
        """Index files and folders (recursively): new and changed files are embedded, unchanged ones skipped,
        files gone from a re-added folder removed. Files that cannot be read are listed in the report."""
        with self.writing():
            return writer.add_paths(self, [str(path) for path in paths], remove_vanished=remove_vanished)

    def add_documents(self, documents: list[Document]) -> AddReport:
        """Index virtual documents (channel history, shared files): same source name and text = no work."""
        with self.writing():
            return writer.add_documents(self, documents)

    def remove(self, sources: list[str | Path]) -> list[str]:
        """Remove sources by name, or every source under a folder; returns what was removed."""
        with self.writing():
            return writer.remove_sources(self, [str(source) for source in sources])

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One writer at a time, across threads and processes."""
        with self._lock, open(self.folder / "write.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def commit(self, *, delete: list[str], pending: list[Pending], touch: list[SourceRow]) -> int:
        """Apply one write in one transaction; the new FAISS file is in place before the db points at it."""
        vectors = self.vectors()
        new_chunks = [(item, chunk) for item in pending for chunk in item.chunks if chunk.position not in item.reused]
        embedded = embed_texts(self._embedder(), [chunk.embed_text for _, chunk in new_chunks],
                               batch_size=self.settings.batch_size, progress=self.progress) if new_chunks else None
        if vectors is None and embedded is not None:
            vectors = VectorIndex.empty(embedded.shape[1], self.params)
        self._check_model(embedded)
        try:
            with self.store.transaction():
                removed = self.store.chunk_ids_of(delete + [item.row.source for item in pending])
                reused_ids = [i for item in pending for i in item.reused.values()]
                reused = vectors.vectors(np.asarray(reused_ids)) if reused_ids else None
                self.store.delete_sources(delete)
                new_ids, old_ids = [], []
                for item in pending:
                    ids = self.store.put_source(item.row, item.chunks)
                    for chunk, chunk_id in zip(item.chunks, ids):
                        (old_ids if chunk.position in item.reused else new_ids).append(chunk_id)
                for row in touch:
                    self.store.touch(row.source, mtime=row.mtime, size=row.size)
                if vectors is not None and (removed or new_ids or old_ids):
                    add_vectors = np.vstack([v for v in (embedded, reused) if v is not None]) if new_ids or old_ids else \
                        np.zeros((0, vectors.dim), "float32")
                    stats = vectors.update(remove=removed, add_ids=np.asarray(new_ids + old_ids, dtype=np.int64),
                                           add_vectors=add_vectors)
                    generation = self.store.meta().get("generation", 0) + 1
                    name = f"vectors-{generation}.faiss"
                    checksum = vectors.save(self.folder / name)
                    self.store.set_meta(generation=generation, vectors_file=name, checksum=checksum, stats=stats,
                                        model=model_name(self.embedder), dim=vectors.dim, updated_at=time.time())
        except BaseException:
            self._loaded = (-1, None, None)  # the in-memory index may hold the failed write: reload from disk
            raise
        self._remove_stale_files()
        return len(new_chunks)

    def _check_model(self, embedded: np.ndarray | None) -> None:
        meta = self.store.meta()
        built_with, ours = meta.get("model"), model_name(self.embedder)
        wrong_dim = embedded is not None and meta.get("dim") not in (None, embedded.shape[1])
        if wrong_dim or (built_with and ours and built_with != ours):
            raise SearchIndexError(f"index {self.name!r} was built with {built_with} ({meta.get('dim')}-d); "
                                   f"this embedding model is {ours}. Use another index name or delete {self.folder}")

    def _remove_stale_files(self) -> None:
        current = self.store.meta().get("vectors_file")
        for path in self.folder.glob("*.faiss*"):
            if path.name != current:
                path.unlink(missing_ok=True)
