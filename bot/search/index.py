"""One named document index: incremental, crash-safe writes and hybrid search over its chunks."""

from __future__ import annotations

import fcntl
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from bot.config import SearchSettings
from bot.errors import UserInputError
from bot.search.answer import Answer, best_sentences
from bot.search.chunker import Chunker
from bot.search.document_vectors import FLOAT32, INT8, Documents, recorded_variant, variant_of
from bot.search.embedding import Embedder, embed_texts, model_name, progress_bar
from bot.search.errors import SearchIndexError
from bot.search.hybrid import KEYWORD_SCORING, MODES, Candidates, Fusion, Hit, KeywordIndex, rank
from bot.search.loaders import Document, discover
from bot.search.planner import AddReport, Plan, plan_documents, plan_paths, plan_removal, roots_of
from bot.search.stale import Models, embedder_for
from bot.search.store import ChunkStore
from bot.search.vectors import AnnParams, VectorIndex
from bot.search.writer import check_model, kept_vectors, remove_stale_files, write_batch

log = logging.getLogger(__name__)

class DocumentIndex:
    """A folder holding `chunks.sqlite` and `vectors-GENERATION.faiss`; the db names the FAISS file it matches.

    Example::

        index = IndexManager(config, embed).open("docs")
        index.add(["handbook/"])
        index.search("how do I reset my password?", k=5)
    """

    def __init__(self, folder: Path, *, settings: SearchSettings, embedder: Embedder | None = None,
                 progress: bool | None = None, models: Models | None = None, documents: Documents | None = None) -> None:
        self.folder = folder
        self.name = folder.name
        self.settings = settings
        self.embedder, self.models = embedder, models  # the serving model; a loader for the one that built it
        self.documents = documents  # what chunks are embedded with (bot.search.document_vectors); else the embedder
        self.progress = progress
        self.chunker = Chunker(tokenizer=getattr(embedder, "tokenizer", None),
                               chunk_tokens=settings.chunk_tokens, overlap=settings.chunk_overlap)
        self.params = AnnParams(settings.ann_threshold, settings.ann_kind, settings.hnsw_m,
                                settings.hnsw_ef_search, settings.ivf_nprobe, settings.recall_sample)
        folder.mkdir(parents=True, exist_ok=True)
        self.store = ChunkStore(folder / "chunks.sqlite")
        self._lock = threading.RLock()
        self._loaded: tuple[int, VectorIndex | None, KeywordIndex | None] = (-1, None, None)
        self.vectors()  # reports a corrupted index now, not at the first query; sets self.built_with

    # -- reading ----------------------------------------------------------------------------------
    def vectors(self) -> VectorIndex | None:
        """The FAISS index matching the db's current generation (reloaded when another process wrote)."""
        with self._lock:
            if self.store.generation() != self._loaded[0]:
                meta = self.store.meta()
                vectors = VectorIndex.load(self.folder / meta["vectors_file"], self.params, checksum=meta["checksum"],
                                           size=self.store.count_chunks()) if meta.get("vectors_file") else None
                self._loaded, self.built_with = (meta.get("generation", 0), vectors, None), meta.get("model")
            return self._loaded[1]

    def keywords(self) -> KeywordIndex:
        with self._lock:
            vectors = self.vectors()
            generation, _, keywords = self._loaded
            if keywords is None:
                keywords = KeywordIndex(*self.store.all_chunks())
                self._loaded = (generation, vectors, keywords)
            return keywords

    def search(self, query: str, k: int = 5, filters: dict[str, Any] | None = None, *, mode: str = "hybrid") -> list[Hit]:
        """The k best chunks for `query`, best first; `filters` ({"source": glob or prefix, "metadata": {...}})
        narrow the candidates before the cut, so k hits come back whenever k chunks match them."""
        if mode not in MODES:
            raise UserInputError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        pool = self.candidates(query, max(self.settings.candidates, k), filters)
        ranked = rank(pool, mode, Fusion.of(self.settings))[:k]
        rows = self.store.chunks([chunk_id for chunk_id, _ in ranked])
        similarity = dict(zip(pool.ids.tolist(), pool.dense.tolist()))
        return [Hit(row.source, row.position, round(score, 6), row.text,
                    {"heading": row.heading, "similarity": round(similarity[chunk_id], 4),
                     **({"metadata": row.metadata} if row.metadata else {})})
                for chunk_id, score in ranked if (row := rows.get(chunk_id))]

    def candidates(self, query: str, n: int, filters: dict[str, Any] | None = None) -> Candidates:
        """Each retriever's best n chunks, pooled, with both scores for every pooled chunk."""
        query = query.strip()
        if not query:
            raise UserInputError("the search query is empty")
        with self._lock:
            keywords = self.keywords()
            vectors, built_with = self._loaded[1], self.built_with  # the generation of the keywords
        allowed = self._allowed(filters)
        if vectors is None or not vectors.size or (allowed is not None and not len(allowed)):
            return Candidates.empty()
        # BM25 runs on a worker while the query is embedded: the model call releases the GIL, so the two share
        # the cores (about 1 ms of a query at 100k chunks came off its latency; bench/search.md).
        keyword_part = KEYWORD_SCORING.submit(keywords.best, query, n, allowed=allowed)
        query_vector = embed_texts(self._embedder(built_with), [query], batch_size=1, progress=False)
        _, dense_ids = vectors.search(query_vector, n, allowed=allowed)
        bm25, best = keyword_part.result()
        pooled = list(dict.fromkeys([int(i) for i in dense_ids[0] if i >= 0] + keywords.ids[best].tolist()))
        ids, position = keywords.locate(pooled)  # the keyword index holds this generation's ids and sources
        return Candidates(ids, [keywords.sources[i] for i in position.tolist()], vectors.vectors(ids) @ query_vector[0],
                          bm25[position])

    def _allowed(self, filters: dict[str, Any] | None) -> np.ndarray | None:
        if not filters:
            return None
        unknown = set(filters) - {"source", "metadata", "channels"}
        if unknown:
            raise UserInputError(f"unknown search filter {', '.join(sorted(unknown))}; filters are source and metadata")
        ids = self.store.filter_ids(source=filters.get("source"), metadata=filters.get("metadata"),
                                    channels=filters.get("channels"))
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
                **vector_stats, "model": meta.get("model"), "document_vectors": recorded_variant(meta),
                "generation": meta.get("generation", 0), "updated_at": meta.get("updated_at"),
                "bytes": sum(path.stat().st_size for path in files)}

    def sources(self) -> list[dict[str, Any]]:
        return [{"source": source, "kind": kind, "chunks": chunks, "added_at": added}
                for source, kind, chunks, added in self.store.source_stats()]

    def _embedder(self, built_with: str | None = None) -> Embedder:
        """The model that built the index (until a rebuild), so query and index vectors never come from two."""
        if self.embedder is None:
            raise SearchIndexError(f"index {self.name!r} was opened without an embedding model; searching needs one")
        return embedder_for(built_with or self.built_with, self.embedder, self.models)

    def document_embedder(self) -> Embedder:
        """What this index's chunks are embedded with: the model that built it, with int8 document vectors only if
        the index holds them already (or, new, where [search] document_quantize and its gate say so)."""
        query, recorded = self._embedder(), recorded_variant(self.store.meta())
        if self.documents is not None and query is self.embedder:
            return self.documents(recorded)
        if recorded == INT8:  # an older model pinned until the rebuild (or a caller's one embedder): fp32 only
            raise SearchIndexError(f"index {self.name!r} holds int8 document vectors of {self.built_with}; adding "
                                   "fp32 ones would mix them: re-index it first (a rebuild embeds it all again)")
        return query

    def _model_id(self) -> str | None:  # a removal, which embeds nothing, keeps the model recorded
        return model_name(self._embedder()) if self.embedder is not None else self.built_with

    def close(self) -> None:
        self.store.close()

    # -- writing: the planner works out what changes, applied here in one transaction ---------------------
    def add(self, paths: list[str | Path], *, remove_vanished: bool = True) -> AddReport:
        """Index files and folders (recursively): new and changed files are embedded, unchanged ones skipped,
        files gone from a re-added folder removed. Files that cannot be read are listed in the report."""
        paths = [str(path) for path in paths]
        with self.writing():
            entries, problems = discover(paths, max_file_mb=self.settings.max_file_mb)
            plan = plan_paths(paths, entries, problems, self.store.sources(), roots=self.roots(),
                              split=self.chunker.split, remove_vanished=remove_vanished)
            return self.apply(plan)

    def add_documents(self, documents: list[Document]) -> AddReport:
        """Index virtual documents (channel history, shared files): same source name and text = no work."""
        with self.writing():
            return self.apply(plan_documents(documents, self.store.sources(), split=self.chunker.split))

    def remove(self, sources: list[str | Path]) -> list[str]:
        """Remove sources by name, or every source under a folder; returns what was removed."""
        with self.writing():
            plan = plan_removal([str(source) for source in sources], self.store.sources(), roots=self.roots())
            return self.apply(plan).removed

    def roots(self) -> dict[str, str]:
        """The files and folders this index was built from (path as added -> "file" | "folder")."""
        return roots_of(self.store.meta(), self.store.sources())

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One writer at a time, across threads and processes."""
        with self._lock, open(self.folder / "write.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def apply(self, plan: Plan) -> AddReport:
        """Write a plan in batches of [search] commit_chunks chunks, each embedded, then committed in one transaction
        (its new FAISS file in place before the db points at it) on a writer thread while the next is embedded.
        Killed in the middle, the index holds the committed batches, consistent and loadable; the same add again
        skips them (unchanged sources) and embeds only the rest. Chunks whose text did not change keep their vectors."""
        total = sum(len(item.chunks) for item in plan.add + plan.replace)
        embedded, previous, documents = 0, 0, self.document_embedder() if total else None  # a removal: no model
        variant = variant_of(documents) if documents is not None else recorded_variant(self.store.meta()) or FLOAT32
        batches = list(plan.batches(self.settings.commit_chunks))
        # Read before any write: a batch's sources are in no other batch, so what each keeps cannot change meanwhile.
        kept = [{item.row.source: kept_vectors(self.store, item) for item in part.replace} for part in batches]
        vectors = self.vectors()  # under the write lock, which this thread holds: the writer thread must not ask
        with progress_bar(total, self.progress, batch_size=self.settings.batch_size) as bar, \
                ThreadPoolExecutor(1, thread_name_prefix=f"index-{self.name}-writer") as writer:
            writing: Future | None = None
            for number, (part, keep) in enumerate(zip(batches, kept), start=1):
                new_chunks = [chunk for item in part.add + part.replace for chunk in item.chunks
                              if chunk.position not in keep.get(item.row.source, {})]
                rows = embed_texts(documents, [chunk.embed_text for chunk in new_chunks],
                                   batch_size=self.settings.batch_size, bar=bar) if new_chunks else None
                if writing is not None:
                    vectors = writing.result()  # the batch before, written while this one was embedded
                    embedded += previous
                writing, previous = writer.submit(self._commit, vectors, part, keep, rows, variant), len(new_chunks)
                if total > self.settings.commit_chunks:
                    log.info("index %s: batch %d of %d embedded", self.name, number, len(batches))
            if writing is not None:
                writing.result()
                embedded += previous
        return plan.report(embedded)

    def _commit(self, vectors: VectorIndex | None, plan: Plan, kept: dict[str, dict[int, int]],
                embedded: np.ndarray | None, variant: str) -> VectorIndex | None:
        """Write one embedded batch in one transaction (on the writer thread); returns the vectors after it."""
        if vectors is None and embedded is not None:
            vectors = VectorIndex.empty(embedded.shape[1], self.params)
        check_model(self.store, self.name, self._model_id(), embedded)
        try:
            write_batch(self.store, self.folder, vectors, plan, kept, embedded, model=self._model_id(),
                        document_vectors=variant)
        except BaseException:
            self._loaded = (-1, None, None)  # the in-memory index may hold the failed write: reload from disk
            raise
        if vectors is not None:
            self._loaded = (self.store.generation(), vectors, None)  # what was just written; BM25 rebuilt when asked
        remove_stale_files(self.store, self.folder)
        return vectors
