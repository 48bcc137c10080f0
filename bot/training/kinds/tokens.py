"""Token classification (NER): CoNLL files or JSON lines {"text", "entities"}, as BIO tags, scored by entity F1."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import NlpbotError, UserInputError
from bot.training.data import Problems, open_data, read_jsonl, require_examples, text_field
from bot.training.kinds.base import Kind, Prepared

IGNORE = -100
JSON_SUFFIXES = {".jsonl", ".json", ".ndjson"}


def read_entities(path: Path, problems: Problems) -> list[dict]:
    """JSON lines {"text", "entities": [{"start", "end", "type"}]} with character offsets, end exclusive."""
    records = []
    for where, record in read_jsonl(path, problems):
        text = text_field(record, "text", where, problems)
        entities = record.get("entities")
        if not isinstance(entities, list):
            problems.add(where, '"entities" must be a list of {"start", "end", "type"} (may be empty)')
            continue
        if text is None:
            continue
        clean, ok = [], True
        for n, entity in enumerate(entities, start=1):
            start, end = (entity.get("start"), entity.get("end")) if isinstance(entity, dict) else (None, None)
            kind = entity.get("type") if isinstance(entity, dict) else None
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
                problems.add(where, f"entity {n}: start and end must be offsets with 0 <= start < end <= {len(text)}")
                ok = False
            elif not (isinstance(kind, str) and kind.strip() and " " not in kind):
                problems.add(where, f'entity {n}: "type" must be a word like "PER", got {kind!r}')
                ok = False
            else:
                clean.append({"start": start, "end": end, "type": kind})
        clean.sort(key=lambda e: e["start"])
        if any(a["end"] > b["start"] for a, b in zip(clean, clean[1:])):
            problems.add(where, "entities overlap; each character can belong to one entity only")
            ok = False
        if ok:
            records.append({"text": text, "entities": clean})
    return records


def read_conll(path: Path, problems: Problems) -> list[dict]:
    """CoNLL: one "TOKEN TAG" per line (tag in the last column, BIO), a blank line between sentences."""
    records: list[dict] = []
    tokens: list[str] = []
    tags: list[str] = []
    for number, encoded in enumerate(path.read_bytes().splitlines() + [b""], start=1):
        try:
            line = encoded.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.add(f"{path}:{number}", f"not UTF-8 text ({exc.reason} at byte {exc.start} of the line)")
            continue
        columns = line.split()
        if not columns or columns[0] == "-DOCSTART-":
            if tokens:
                records.append({"tokens": tokens, "tags": tags})
            tokens, tags = [], []
            continue
        tag = columns[-1]
        if len(columns) < 2:
            problems.add(f"{path}:{number}", f"expected a token and a tag separated by a space, got {line.strip()!r}")
        elif not (tag == "O" or (tag[:2] in {"B-", "I-"} and len(tag) > 2)):
            problems.add(f"{path}:{number}", f"tag {tag!r} is not BIO (O, B-TYPE or I-TYPE)")
        else:
            tokens.append(columns[0])
            tags.append(tag)
    return records


def _metrics(id2label: dict[int, str]):  # type: ignore[no-untyped-def]
    def compute(prediction: Any) -> dict[str, float]:
        from seqeval.metrics import accuracy_score, f1_score, precision_score, recall_score

        logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
        predicted = np.asarray(logits).argmax(axis=-1)
        gold_seqs, pred_seqs = [], []
        for gold_row, pred_row in zip(prediction.label_ids, predicted):
            keep = [(g, p) for g, p in zip(gold_row, pred_row) if g != IGNORE]
            gold_seqs.append([id2label[int(g)] for g, _ in keep])
            pred_seqs.append([id2label[int(p)] for _, p in keep])
        return {
            "entity_f1": float(f1_score(gold_seqs, pred_seqs, zero_division=0)),
            "entity_precision": float(precision_score(gold_seqs, pred_seqs, zero_division=0)),
            "entity_recall": float(recall_score(gold_seqs, pred_seqs, zero_division=0)),
            "token_accuracy": float(accuracy_score(gold_seqs, pred_seqs)),
        }

    return compute


class TokenClassification(Kind):
    name = "token-classification"
    metrics = ("entity_f1", "entity_precision", "entity_recall", "token_accuracy")
    primary_metric = "entity_f1"

    def read(self, path: str | Path, *, labels: Sequence[str] | None = None) -> list[dict]:
        path = open_data(path)
        problems = Problems()
        records = read_entities(path, problems) if path.suffix in JSON_SUFFIXES else read_conll(path, problems)
        require_examples(records, path, problems)
        problems.raise_if_any('Use CoNLL ("Paris B-LOC" per line) or JSON lines like '
                              '{"text": "Ada lives in Paris", "entities": [{"start": 13, "end": 18, "type": "LOC"}]}.')
        return records

    def labels(self, records: Sequence[dict], declared: Sequence[str] | None) -> list[str]:
        if declared:
            return list(declared)
        types = set()
        for record in records:
            types |= {e["type"] for e in record.get("entities", [])}
            types |= {tag[2:] for tag in record.get("tags", []) if tag != "O"}
        return ["O"] + [f"{prefix}-{t}" for t in sorted(types) for prefix in ("B", "I")]

    def _encode(self, tokenizer: Any, records: Sequence[dict], label2id: dict[str, int], max_length: int) -> list[dict]:
        if not tokenizer.is_fast:
            raise NlpbotError("token classification needs a fast tokenizer (tokenizer.json) to align labels")
        encoded = []
        for record in records:
            if "tokens" in record:
                enc = tokenizer(record["tokens"], is_split_into_words=True, truncation=True, max_length=max_length)
                previous, labels = None, []
                for word in enc.word_ids():
                    labels.append(IGNORE if word is None or word == previous else label2id[record["tags"][word]])
                    previous = word
            else:
                enc = tokenizer(record["text"], truncation=True, max_length=max_length, return_offsets_mapping=True)
                labels, inside = [], None
                for start, end in enc.pop("offset_mapping"):
                    entity = next((e for e in record["entities"] if e["start"] <= start < e["end"]), None)
                    if start == end:
                        labels.append(IGNORE)
                    elif entity is None:
                        labels.append(label2id["O"])
                    else:
                        labels.append(label2id[("I-" if inside is entity else "B-") + entity["type"]])
                    inside = entity if start != end else inside
            encoded.append({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": labels})
        return encoded

    def prepare(self, *, base: Path, labels: list[str] | None, train: Sequence[dict], eval: Sequence[dict],
                max_length: int) -> Prepared:
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        assert labels is not None
        label2id = {label: i for i, label in enumerate(labels)}
        model = AutoModelForTokenClassification.from_pretrained(
            base, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id,
            ignore_mismatched_sizes=True,
        )
        return self._prepared(model, AutoTokenizer.from_pretrained(base), label2id, train, eval, max_length)

    def prepare_eval(self, *, path: Path, eval: Sequence[dict], max_length: int) -> Prepared:
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        model = AutoModelForTokenClassification.from_pretrained(path)
        label2id = {str(label): int(i) for label, i in model.config.label2id.items()}
        missing = sorted(set(self.labels(eval, None)) - set(label2id))
        if missing:
            raise UserInputError(f"the model at {path} does not know the tag(s) {', '.join(missing)}")
        return self._prepared(model, AutoTokenizer.from_pretrained(path), label2id, None, eval, max_length)

    def _prepared(self, model: Any, tokenizer: Any, label2id: dict[str, int], train: Sequence[dict] | None,
                  eval: Sequence[dict], max_length: int) -> Prepared:
        from transformers import DataCollatorForTokenClassification

        id2label = {i: label for label, i in label2id.items()}
        return Prepared(
            model=model, tokenizer=tokenizer,
            train_dataset=self._encode(tokenizer, train, label2id, max_length) if train is not None else None,
            eval_dataset=self._encode(tokenizer, eval, label2id, max_length),
            collator=DataCollatorForTokenClassification(tokenizer), compute_metrics=_metrics(id2label),
        )
