"""Files shared in Slack as SharedFile objects: the one place that downloads them, with the bot token."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from bot.request import FetchError, SharedFile

TIMEOUT_S = 60


class FileDownloader:
    """GETs Slack's private file links with `Authorization: Bearer TOKEN`; the token never leaves this object."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "FileDownloader(token=...)"

    def get(self, url: str, *, max_bytes: int, html_expected: bool = False) -> bytes:
        if not url.startswith(("https://", "http://")):
            raise FetchError(f"not a web address: {url[:80]!r}")
        if not self._token:
            raise FetchError("downloading shared files needs the bot token: set SLACK_BOT_TOKEN")
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self._token}"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                # Without the files:read scope Slack answers a file link with its sign-in page, status 200.
                if "text/html" in response.headers.get("Content-Type", "") and not html_expected:
                    raise FetchError("Slack answered with a web page, not the file (does the app have the files:read scope?)")
                blocks, received = [], 0
                while block := response.read(1 << 16):
                    received += len(block)
                    if received > max_bytes:
                        raise FetchError(f"larger than the limit of {max_bytes / 2**20:g} MB")
                    blocks.append(block)
        except urllib.error.HTTPError as exc:
            raise FetchError(f"Slack answered HTTP {exc.code} ({exc.reason})") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise FetchError(f"cannot reach Slack's file server ({getattr(exc, 'reason', exc)})") from None
        return b"".join(blocks)


@dataclass(frozen=True)
class SlackFile:
    """A Slack file object as plugins see it (a SharedFile); `fetch` downloads url_private_download."""

    id: str
    name: str
    mimetype: str
    size: int | None
    url: str = field(repr=False)
    downloader: FileDownloader = field(repr=False, compare=False)

    @property
    def source(self) -> str:
        return f"slack://file/{self.id}/{self.name}"

    def fetch(self, *, max_bytes: int) -> bytes:
        if not self.url:
            raise FetchError("Slack sent no download link for it")
        html = self.mimetype.startswith("text/html") or self.name.lower().endswith((".html", ".htm"))
        return self.downloader.get(self.url, max_bytes=max_bytes, html_expected=html)


def shared_files(raw: list[dict[str, Any]], downloader: FileDownloader) -> list[SharedFile]:
    """The `files` of a Slack event as SharedFile objects, in the order they were shared."""
    files: list[SharedFile] = []
    for item in raw:
        name = str(item.get("name") or item.get("title") or item.get("id") or "file")
        size = item.get("size")
        files.append(SlackFile(
            id=str(item.get("id") or name), name=name, mimetype=str(item.get("mimetype") or ""),
            size=int(size) if isinstance(size, (int, float)) else None,
            url=str(item.get("url_private_download") or item.get("url_private") or ""), downloader=downloader,
        ))
    return files
