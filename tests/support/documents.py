"""Documents for search tests: a small corpus, files written to disk, a [search] config, a counting embedder."""

from __future__ import annotations

import json
from pathlib import Path

CORPUS = {
    "handbook/accounts.md": "# Accounts\n\nTo reset your password, open the account page and click \"Forgot password\". "
    "A reset link is emailed to you and expires after one hour.\n\n# Two-factor login\n\n"
    "Two-factor authentication asks for a code from your phone app every time you sign in.",
    "handbook/lunch.md": "# Cafeteria\n\nThe cafeteria on the ground floor serves lunch from noon to two o'clock "
    "on weekdays. Vegetarian dishes are marked with a green leaf.",
    "handbook/travel.txt": "Business travel must be approved by your manager before booking. Book trains for "
    "trips under four hours; flights need a written reason.",
    "guides/garden.html": "<html><head><title>x</title><script>var tracking = 1;</script><style>p{}</style></head>"
    "<body><h1>Watering tomatoes</h1><p>Water tomato plants deeply twice a week, in the morning, and never "
    "wet the leaves.</p></body></html>",
    "guides/bread.md": "# Sourdough\n\nFeed the sourdough starter with equal weights of flour and water, then "
    "let the dough rise overnight before baking at 240 degrees.",
}


class CountingEmbedder:
    """The real model handle, counting how often it is called (to prove unchanged files cost nothing)."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.tokenizer, self.info = handle.tokenizer, handle.info
        self.calls = 0

    def __call__(self, texts: list[str]):
        self.calls += 1
        return self.handle(texts)


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def write_config(folder: Path, **search) -> Path:
    """A config.toml in `folder` with [search] keys; indexes go to folder/indexes (relative to the file)."""
    lines = ["[search]"] + [f"{key} = {json.dumps(value)}" for key, value in {"indexes_dir": "indexes", **search}.items()]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
