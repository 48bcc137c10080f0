"""BEIR-format data sets (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv) as documents and judged queries."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from bot.errors import UserInputError
from bot.search.loaders import Document


@dataclass(frozen=True)
class Judged:
    """A query with its relevant documents (corpus id -> grade, grades above zero only)."""

    id: str
    text: str
    relevant: dict[str, int]


def _jsonl(path: Path) -> list[dict]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read it ({exc.strerror or exc}); a BEIR folder holds "
                             "corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise UserInputError(f"{path}:{number}: not a JSON line") from None
    return rows


def document_text(title: str, text: str) -> str:
    """The title becomes the heading, so it travels with (and is matched in) every chunk of the document."""
    title = " ".join(title.split())
    return f"# {title}\n\n{text.strip()}" if title else text.strip()


def corpus(folder: str | Path) -> list[Document]:
    """One document per corpus line; its source is the corpus id."""
    documents = []
    for row in _jsonl(Path(folder) / "corpus.jsonl"):
        text = document_text(str(row.get("title") or ""), str(row.get("text") or ""))
        if text:
            documents.append(Document(str(row["_id"]), text, kind="beir"))
    return documents


def judged_queries(folder: str | Path, split: str = "test") -> list[Judged]:
    """The queries of qrels/SPLIT.tsv that have at least one relevant document, in file order."""
    folder = Path(folder)
    texts = {str(row["_id"]): str(row["text"]) for row in _jsonl(folder / "queries.jsonl")}
    path = folder / "qrels" / f"{split}.tsv"
    relevant: dict[str, dict[str, int]] = {}
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle, delimiter="\t"):
                if len(row) < 3 or not row[2].strip().lstrip("-").isdigit():
                    continue  # the header line, blank lines
                if int(row[2]) > 0:
                    relevant.setdefault(row[0], {})[row[1]] = int(row[2])
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read the qrels ({exc.strerror or exc})") from None
    missing = [query for query in relevant if query not in texts]
    if missing:
        raise UserInputError(f"{path}: query {missing[0]} is not in queries.jsonl")
    if not relevant:
        raise UserInputError(f"{path}: no judged queries")
    return [Judged(query, texts[query], grades) for query, grades in relevant.items()]
