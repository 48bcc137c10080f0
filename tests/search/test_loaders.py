"""Reading files: every bad file is reported with its reason and the rest is indexed."""

from __future__ import annotations

from bot.search.loaders import html_to_text

from tests.support.documents import write_files
from .pdfs import encrypted_pdf, text_pdf


def test_bad_files_are_reported_one_by_one_and_the_rest_is_indexed(tmp_path, monkeypatch, make_manager):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {
        "docs/good.md": "# Holidays\n\nEveryone gets twenty-five days of paid holiday a year.",
        "docs/manual.pdf": text_pdf("The espresso machine is descaled every Friday by the office manager."),
        "docs/secret.pdf": encrypted_pdf("Salaries for next year.", "hunter2"),
        "docs/broken.pdf": b"%PDF-1.4 this is not really a pdf",
        "docs/photo.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "docs/latin1.txt": "caf\xe9 cr\xe8me".encode("latin-1"),
        "docs/empty.md": "",
        "docs/blank.txt": "   \n\n  ",
        "docs/archive.zip": b"PK\x03\x04",
    })
    index = make_manager().open()

    report = index.add(["docs", "missing.md"])
    reasons = {problem.source: problem.reason for problem in report.problems}
    assert sorted(report.added) == ["docs/good.md", "docs/manual.pdf"]
    assert reasons["docs/secret.pdf"] == "encrypted PDF (needs a password)"
    assert reasons["docs/broken.pdf"].startswith("not a readable PDF")
    assert reasons["docs/photo.txt"] == "binary file, not text"
    assert reasons["docs/latin1.txt"].startswith("not UTF-8 text")
    assert reasons["docs/empty.md"] == "empty file"
    assert reasons["docs/blank.txt"] == "no text in it"
    assert reasons["docs/archive.zip"].startswith("unknown file type '.zip'")
    assert reasons["missing.md"] == "no such file or folder"
    assert len(reasons) == 8
    assert index.search("who cleans the coffee machine?", k=1)[0].source == "docs/manual.pdf"


def test_html_keeps_headings_and_drops_scripts_and_styles():
    text = html_to_text("<html><head><title>T</title><style>body{color:red}</style></head><body>"
                        "<h2>Opening &amp; hours</h2><p>We open at <b>nine</b>.</p><script>alert(1)</script>"
                        "<ul><li>Monday</li><li>Tuesday</li></ul></body></html>")
    assert text == "## Opening & hours\n\nWe open at nine.\n\nMonday\n\nTuesday"


def test_a_text_file_with_one_undecodable_line_is_indexed_without_it_and_the_line_is_named(tmp_path, monkeypatch,
                                                                                           make_manager, capsys):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    lines = [f"Line {i}: the weekly report goes to the team lead." for i in range(1, 40)]
    lines[19] = "Broken: caf\xe9 cr\xe8me"  # line 20, in Latin-1
    lines[30] = "The fire drill is on the first Monday of every month."
    write_files(tmp_path, {"notes/report.txt": "\n".join(lines).encode("latin-1"),
                           "notes/other.md": "# Parking\n\nVisitors park in the blue garage."})
    make_manager()  # writes config.toml

    assert main(["--config", str(tmp_path / "config.toml"), "index", "add", "--no-progress", "notes"]) == 1
    out, err = capsys.readouterr()
    assert "2 added" in out and "1 failed" in out
    assert "notes/report.txt: line 20 is not UTF-8 text, left out; the rest is indexed" in err

    index = make_manager().open()
    assert index.search("when is the fire drill?", k=1)[0].source == "notes/report.txt"
    assert not [hit for hit in index.search("creme cafe", k=20) if "caf" in hit.text]
