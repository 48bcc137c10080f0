"""The pieces of one committed write: kept vectors, the new FAISS generation, the model check, stale files."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bot.search.errors import SearchIndexError
from bot.search.planner import NewSource, Plan
from bot.search.store import ChunkStore
from bot.search.vectors import VectorIndex


def kept_vectors(store: ChunkStore, item: NewSource) -> dict[int, int]:
    """Chunk position -> id of the stored chunk with the same text, whose vector is kept."""
    existing = store.chunk_hashes_of(item.row.source)
    return {chunk.position: existing[chunk.hash] for chunk in item.chunks if chunk.hash in existing}


def write_batch(store: ChunkStore, folder: Path, vectors: VectorIndex | None, plan: Plan,
                kept: dict[str, dict[int, int]], embedded: np.ndarray | None, *, model: str | None,
                document_vectors: str) -> None:
    """One batch of a plan in one transaction: its sources' rows and chunks, and (when vectors changed) the new FAISS
    generation. `embedded` holds the vectors of the chunks not in `kept`, in the plan's order."""
    writes = plan.add + plan.replace
    with store.transaction():
        removed = store.chunk_ids_of(plan.remove + [item.row.source for item in writes])
        kept_ids = [i for positions in kept.values() for i in positions.values()]
        reused = vectors.vectors(np.asarray(kept_ids)) if kept_ids and vectors is not None else None
        store.delete_sources(plan.remove)
        new_ids, old_ids = [], []
        for item in writes:
            ids = store.put_source(item.row, item.chunks)
            for chunk, chunk_id in zip(item.chunks, ids):
                (old_ids if chunk.position in kept.get(item.row.source, {}) else new_ids).append(chunk_id)
        for row in plan.touch:
            store.touch(row.source, mtime=row.mtime, size=row.size)
        if plan.roots is not None:
            store.set_meta(roots=plan.roots)
        if vectors is not None and (removed or new_ids or old_ids):
            write_vectors(store, folder, vectors, removed, new_ids + old_ids, [embedded, reused], model=model,
                          document_vectors=document_vectors)


def write_vectors(store: ChunkStore, folder: Path, vectors: VectorIndex, removed: list[int], ids: list[int],
                  parts: list[np.ndarray | None], *, model: str | None, document_vectors: str = "float32") -> None:
    """Save the updated FAISS file under a new generation and point the db at it (inside the transaction)."""
    present = [part for part in parts if part is not None]
    add_vectors = np.vstack(present) if ids else np.zeros((0, vectors.dim), "float32")
    stats = vectors.update(remove=removed, add_ids=np.asarray(ids, dtype=np.int64), add_vectors=add_vectors)
    generation = store.meta().get("generation", 0) + 1
    name = f"vectors-{generation}.faiss"
    checksum = vectors.save(folder / name)
    store.set_meta(generation=generation, vectors_file=name, checksum=checksum, stats=stats, model=model,
                   dim=vectors.dim, document_vectors=document_vectors, updated_at=time.time())


def check_model(store: ChunkStore, name: str, model: str | None, embedded: np.ndarray | None) -> None:
    """Refuse vectors from another model (or of another size) than the one the index was built with."""
    meta = store.meta()
    built_with = meta.get("model")
    wrong_dim = embedded is not None and meta.get("dim") not in (None, embedded.shape[1])
    if wrong_dim or (built_with and model and built_with != model):
        raise SearchIndexError(f"index {name!r} was built with {built_with} ({meta.get('dim')}-d); "
                               f"this embedding model is {model}. Use another index name or delete {store.path.parent}")


def remove_stale_files(store: ChunkStore, folder: Path) -> None:
    """FAISS files of earlier generations (and temporaries a crash left): only the current one is needed."""
    current = store.meta().get("vectors_file")
    for path in folder.glob("*.faiss*"):
        if path.name != current:
            path.unlink(missing_ok=True)
