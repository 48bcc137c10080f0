"""BEIR-format data sets (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv) as documents and judged queries."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from bot.errors import UserInputError
from bot.search.hybrid import KeywordIndex
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
    return f"# {title}\n\n{text}" if title else text


def titled_texts(folder: str | Path) -> dict[str, tuple[str, str]]:
    """Corpus id -> (title, text), in file order."""
    rows = _jsonl(Path(folder) / "corpus.jsonl")
    return {str(row["_id"]): (" ".join(str(row.get("title") or "").split()), str(row.get("text") or "").strip())
            for row in rows if "_id" in row}


def corpus(folder: str | Path) -> list[Document]:
    """One document per corpus line; its source is the corpus id, its title the heading of its text."""
    documents = [Document(doc, document_text(title, text), kind="beir")
                 for doc, (title, text) in titled_texts(folder).items()]
    return [document for document in documents if document.text]


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


def training_pairs(folder: str | Path, split: str = "train") -> list[dict[str, str]]:
    """{"query", "positive", "negative"} per judged (query, relevant document) of a split: `nlpbot train search` data.

    Texts are documents as their chunks are embedded: the title on the first line, then the text. The
    negative is a hard one: the query's best BM25 match among the documents not judged relevant to it (the
    second pair of a query gets the second best, and so on), so training learns more than in-batch negatives
    (random documents of other queries) teach.
    """
    documents = titled_texts(folder)
    texts = [f"{title}\n{text}" if title else text for title, text in documents.values()]
    keywords = KeywordIndex(list(range(len(texts))), texts, list(documents))  # sources: the document ids
    position = {doc: i for i, doc in enumerate(documents)}
    pairs = []
    for query in judged_queries(folder, split):
        positives = [position[doc] for doc in query.relevant if doc in position]
        scores = keywords.scores(query.text)
        ranked = [int(i) for i in keywords.top(scores, 2 * len(positives)) if i not in positives]
        for n, doc in enumerate(positives):
            pair = {"query": query.text, "positive": texts[doc]}
            if n < len(ranked):
                pair["negative"] = texts[ranked[n]]
            pairs.append(pair)
    if not pairs:
        raise UserInputError(f"{folder}: no judged query of the {split} split has its document in corpus.jsonl")
    return pairs


def write_training_pairs(folder: str | Path, split: str, out: Path) -> list[dict[str, str]]:
    """`training_pairs` of FOLDER's SPLIT written to OUT as JSON lines (its folder made if missing); returns them."""
    pairs = training_pairs(folder, split)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(pair, ensure_ascii=False) + "\n" for pair in pairs), encoding="utf-8")
    return pairs


def index_name(folder: str | Path) -> str:
    """The index a BEIR folder is built into when none is named: beir-FOLDER (its name made a valid index name)."""
    return "beir-" + "".join(c if c.isalnum() or c in "-_." else "-" for c in Path(folder).resolve().name)
