"""Files shared in Slack to documents: the one place that downloads them (with the bot token) and reads them."""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import NlpbotError, UserInputError
from bot.search.loaders import Document, FileEntry, LoadError, Problem, read_entry

# Slack's mimetype (or, failing that, the file's extension) -> the loader kind and the extension it needs.
MIMETYPES = {"text/plain": ("text", ".txt"), "text/markdown": ("markdown", ".md"), "text/x-markdown": ("markdown", ".md"),
             "text/html": ("html", ".html"), "application/pdf": ("pdf", ".pdf")}
EXTENSIONS = {".txt": ("text", ".txt"), ".md": ("markdown", ".md"), ".markdown": ("markdown", ".md"),
              ".html": ("html", ".html"), ".htm": ("html", ".html"), ".pdf": ("pdf", ".pdf")}
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
TIMEOUT_S = 60


class DownloadError(NlpbotError):
    """A shared file could not be fetched from Slack; the message says why (never the token)."""


@dataclass(frozen=True)
class SharedFile:
    """The part of a Slack file object we use."""

    id: str
    name: str
    url: str
    kind: str
    extension: str
    size: int | None

    @property
    def source(self) -> str:
        return f"slack://file/{self.id}/{self.name}"


def bot_token() -> str:
    token = os.environ.get("SLACK_BOT_TOKEN", "")
    if not token:
        raise DownloadError("downloading shared files needs the bot token: set SLACK_BOT_TOKEN")
    return token


def download(url: str, destination: Path, *, token: str, max_bytes: int) -> Path:
    """GET `url` with `Authorization: Bearer TOKEN` into `destination`, refusing more than max_bytes."""
    if not url.startswith(("https://", "http://")):
        raise DownloadError(f"not a web address: {url[:80]!r}")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response, open(destination, "wb") as out:
            if "text/html" in response.headers.get("Content-Type", "") and not destination.suffix.startswith(".htm"):
                raise DownloadError("Slack answered with a web page, not the file (does the app have the files:read scope?)")
            received = 0
            while block := response.read(1 << 16):
                received += len(block)
                if received > max_bytes:
                    raise DownloadError(f"larger than the limit of {max_bytes / 1e6:g} MB ([search] max_file_mb)")
                out.write(block)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"Slack answered HTTP {exc.code} ({exc.reason})") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DownloadError(f"cannot reach Slack's file server ({getattr(exc, 'reason', exc)})") from None
    return destination


def shared_files(files: list[dict[str, Any]]) -> tuple[list[SharedFile], list[Problem]]:
    """The Slack file objects we can index, and a reason for each one we cannot."""
    usable, problems = [], []
    for item in files:
        name = str(item.get("name") or item.get("title") or item.get("id") or "file")
        kind = MIMETYPES.get(str(item.get("mimetype", "")).split(";")[0].strip()) or \
            EXTENSIONS.get(Path(name).suffix.lower())
        url = item.get("url_private_download") or item.get("url_private")
        if kind is None:
            problems.append(Problem(name, f"{item.get('mimetype') or 'unknown type'}: only text, Markdown, HTML and PDF"))
        elif not url:
            problems.append(Problem(name, "Slack sent no download link for it"))
        else:
            usable.append(SharedFile(str(item.get("id") or SAFE_NAME.sub("_", name)), name, url, *kind,
                                     item.get("size")))
    return usable, problems


def fetch_documents(files: list[SharedFile], folder: Path, *, max_file_mb: float,
                    token: str | None = None) -> tuple[list[Document], list[Problem]]:
    """Download each file into `folder` and read it; a file that fails is a Problem, the rest go on."""
    if not files:
        return [], []
    token = token or bot_token()
    limit = int(max_file_mb * 1024 * 1024)
    documents, problems = [], []
    for item in files:
        if item.size is not None and item.size > limit:
            problems.append(Problem(item.name, f"too large ({item.size / 1e6:.0f} MB; [search] max_file_mb = {max_file_mb:g})"))
            continue
        path = folder / f"{SAFE_NAME.sub('_', item.id)}{item.extension}"
        try:
            download(item.url, path, token=token, max_bytes=limit)
            stat = path.stat()
            if not stat.st_size:
                raise UserInputError("empty file")
            document = read_entry(FileEntry(item.source, path, item.kind, stat.st_mtime, stat.st_size))
        except (NlpbotError, LoadError) as exc:
            problems.append(Problem(item.name, str(exc)))
            continue
        documents.append(Document(item.source, document.text, item.kind, {"file_id": item.id, "name": item.name}))
    return documents, problems
