"""Files and folders to documents: text, Markdown, HTML and PDF, with a reason for every file that fails."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

TEXT_TYPES = {".txt": "text", ".text": "text", ".rst": "text", ".md": "markdown", ".markdown": "markdown"}
HTML_TYPES = {".html": "html", ".htm": "html"}
PDF_TYPES = {".pdf": "pdf"}
FILE_TYPES = {**TEXT_TYPES, **HTML_TYPES, **PDF_TYPES}


class LoadError(Exception):
    """One file could not be read; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Document:
    """Text to index. `source` is the path as added (or any name for a virtual document)."""

    source: str
    text: str
    kind: str = "virtual"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FileEntry:
    """A file found on disk, before it is read: enough to tell whether it changed."""

    source: str
    path: Path
    kind: str
    mtime: float
    size: int


@dataclass(frozen=True)
class Problem:
    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


def discover(paths: list[str | os.PathLike], *, max_file_mb: float = 50.0) -> tuple[list[FileEntry], list[Problem]]:
    """Every indexable file under the given files and folders (hidden ones skipped), and the files that are not."""
    entries: list[FileEntry] = []
    problems: list[Problem] = []
    for given in paths:
        root = Path(given)
        if root.is_dir():
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        _add_file(Path(folder) / name, entries, problems, max_file_mb)
        else:
            _add_file(root, entries, problems, max_file_mb)
    return entries, problems


def _add_file(path: Path, entries: list[FileEntry], problems: list[Problem], max_file_mb: float) -> None:
    source = os.path.normpath(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        problems.append(Problem(source, "no such file or folder"))
        return
    except OSError as exc:
        problems.append(Problem(source, f"cannot read it ({exc.strerror or exc})"))
        return
    kind = FILE_TYPES.get(path.suffix.lower())
    if not path.is_file():
        problems.append(Problem(source, "not a regular file"))
    elif kind is None:
        supported = ", ".join(sorted(FILE_TYPES))
        problems.append(Problem(source, f"unknown file type {path.suffix or '(no extension)'!r}; supported: {supported}"))
    elif stat.st_size == 0:
        problems.append(Problem(source, "empty file"))
    elif stat.st_size > max_file_mb * 1024 * 1024:
        problems.append(Problem(source, f"too large ({stat.st_size / 1e6:.0f} MB; the limit is [search] max_file_mb = {max_file_mb:g})"))
    else:
        entries.append(FileEntry(source, path, kind, stat.st_mtime, stat.st_size))


def read_entry(entry: FileEntry) -> tuple[Document, Problem | None]:
    """The text of a discovered file, or LoadError saying why there is none.

    Text is decoded line by line: lines that are not UTF-8 are left out and named in the Problem that comes
    back with the document (None when every line decoded). A file that is mostly undecodable is refused.
    """
    try:
        raw = entry.path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read it ({exc.strerror or exc})") from None
    bad: list[int] = []
    if entry.kind == "pdf":
        text = _pdf_text(entry.path)
    else:
        if b"\x00" in raw[:8192]:
            raise LoadError("binary file, not text")
        text, bad = decode_lines(raw)
        if entry.kind == "html":
            text = html_to_text(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LoadError("no text in it" + (" (a scanned PDF needs OCR first)" if entry.kind == "pdf" else ""))
    problem = Problem(entry.source, f"{_lines(bad)} not UTF-8 text, left out; the rest is indexed") if bad else None
    return Document(entry.source, text, entry.kind, {"path": str(entry.path)}), problem


def decode_lines(raw: bytes) -> tuple[str, list[int]]:
    """UTF-8 text with the undecodable lines dropped, and their numbers (1-based).

    LoadError when more lines fail than decode: that is another encoding (or binary), not a few bad bytes.
    """
    raw = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw  # a UTF-8 byte order mark
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    kept, bad = [], []
    for number, line in enumerate(raw.splitlines(keepends=True), start=1):
        try:
            kept.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            bad.append(number)
            kept.append("\n")  # keep the line breaks, so paragraphs stay apart
    if len(bad) * 2 > len(kept):
        raise LoadError(f"not UTF-8 text ({len(bad)} of {len(kept)} lines fail; binary, or another encoding)")
    return "".join(kept), bad


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:10])) + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")
    return f"line {shown} is" if len(numbers) == 1 else f"lines {shown} are"


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - pypdf raises several types (missing crypto library, bad key)
                raise LoadError(f"encrypted PDF that cannot be opened ({exc})") from None
            if not opened:
                raise LoadError("encrypted PDF (needs a password)")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"not a readable PDF ({exc})") from None
    return "\n\n".join(page.strip() for page in pages if page.strip())


BLOCK_TAGS = {"p", "div", "section", "article", "li", "ul", "ol", "table", "tr", "br", "pre", "blockquote", "header", "footer"}
WHITESPACE = re.compile(r"\s+")
SKIP_TAGS = {"script", "style", "noscript", "template", "head", "svg"}


class _HtmlText(HTMLParser):
    """Visible text; headings become Markdown headings so the chunker keeps them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in SKIP_TAGS:
            self.skipping += 1
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK_TAGS or (len(tag) == 2 and tag[0] == "h" and tag[1] in "123456"):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(WHITESPACE.sub(" ", data))  # inline tags split words only where the source had spaces


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    paragraphs = ("".join(parser.parts)).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())
