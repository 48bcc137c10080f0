"""Files people shared with a command to documents: which can be indexed, then fetch each and read it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.errors import NlpbotError, UserInputError
from bot.request import SharedFile
from bot.search.loaders import Document, FileEntry, LoadError, Problem, read_entry

# The declared mimetype (or, failing that, the file's extension) -> the loader kind and the extension it needs.
MIMETYPES = {"text/plain": ("text", ".txt"), "text/markdown": ("markdown", ".md"), "text/x-markdown": ("markdown", ".md"),
             "text/html": ("html", ".html"), "application/pdf": ("pdf", ".pdf")}
EXTENSIONS = {".txt": ("text", ".txt"), ".md": ("markdown", ".md"), ".markdown": ("markdown", ".md"),
              ".html": ("html", ".html"), ".htm": ("html", ".html"), ".pdf": ("pdf", ".pdf")}
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Indexable:
    """A shared file with the loader kind that reads it."""

    file: SharedFile
    kind: str
    extension: str


def indexable(files: list[SharedFile]) -> tuple[list[Indexable], list[Problem]]:
    """The shared files we can index, and a reason for each one we cannot."""
    usable, problems = [], []
    for file in files:
        kind = MIMETYPES.get(file.mimetype.split(";")[0].strip()) or EXTENSIONS.get(Path(file.name).suffix.lower())
        if kind is None:
            problems.append(Problem(file.name, f"{file.mimetype or 'unknown type'}: only text, Markdown, HTML and PDF"))
        else:
            usable.append(Indexable(file, *kind))
    return usable, problems


def fetch_documents(items: list[Indexable], folder: Path, *, max_file_mb: float) -> tuple[list[Document], list[Problem]]:
    """Fetch each file into `folder` and read it; a file that fails is a Problem, the rest go on."""
    limit = int(max_file_mb * 1024 * 1024)
    documents, problems = [], []
    for item in items:
        file = item.file
        if file.size is not None and file.size > limit:
            problems.append(Problem(file.name, f"too large ({file.size / 1e6:.0f} MB; [search] max_file_mb = {max_file_mb:g})"))
            continue
        path = folder / f"{SAFE_NAME.sub('_', file.id)}{item.extension}"
        try:
            content = file.fetch(max_bytes=limit)
            if not content:
                raise UserInputError("empty file")
            path.write_bytes(content)
            stat = path.stat()
            document, partial = read_entry(FileEntry(file.source, path, item.kind, stat.st_mtime, stat.st_size))
        except (NlpbotError, LoadError) as exc:
            problems.append(Problem(file.name, str(exc)))
            continue
        if partial is not None:
            problems.append(Problem(file.name, partial.reason))
        documents.append(Document(file.source, document.text, item.kind, {"file_id": file.id, "name": file.name}))
    return documents, problems
