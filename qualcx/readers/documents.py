"""Word .docx, OpenDocument .odt and PDF: paragraphs become lines of text; tables whose
columns are speaker | text (optionally time | speaker | text) become turns."""

from __future__ import annotations

import io
import re
from pathlib import Path

from ..errors import TranscriptFormatError
from .base import (Document, TurnRecord, merge_same_speaker, open_zip, parse_time,
                   skipped_warning, turns_text)


def _document_text(path: Path, blocks: list[list[str]]) -> list[Document]:
    """Join paragraph blocks (a paragraph is ``[text]``, a table row is ``[cell, …]``).

    A speaker table holding most of the text is the transcript; the paragraphs around it (a
    title, notes) are not read, and a warning says so, as text before the first speaker label
    of a paragraph transcript is.
    """
    rows = [b for b in blocks if len(b) > 1]
    records = _table_turns(rows)
    if records is not None and sum(len(" ".join(r)) for r in rows) * 2 >= sum(
            len(" ".join(b)) for b in blocks):
        outside = [b[0] for b in blocks if len(b) == 1 and b[0].strip()]
        warnings = [skipped_warning(path, "text outside the speaker table", outside)
                    ] if outside else []
        return [Document(turns_text(records), turns=records, warnings=warnings)]
    lines = ["\t".join(c for c in b if c) for b in blocks]
    text = "\n".join(lines)
    if not text.strip():
        raise TranscriptFormatError(path, "the document has no text; add the transcript or "
                                    "remove the file")
    return [Document(text)]


TIME_RE = re.compile(r"^\[?(\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d+)?\]?$")


def _table_turns(rows: list[list[str]]) -> list[TurnRecord] | None:
    """Speaker | text tables (optionally time | speaker | text) as turn records."""
    rows = [[c.strip() for c in r] for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        return None
    width = max(len(r) for r in rows)
    if width not in (2, 3):
        return None
    header = [c.lower() for c in rows[0]]
    if any(h in ("speaker", "name", "who", "text", "transcript", "time") for h in header):
        rows = rows[1:]
    out = []
    for row in rows:
        row = row + [""] * (width - len(row))
        time = None
        if width == 3:
            if not TIME_RE.match(row[0] or "0:00"):
                return None
            time = parse_time(row[0].strip("[]")) if row[0] else None
            row = row[1:]
        speaker, text = row
        if len(speaker) > 40 or not text:
            if not text:
                continue
            return None
        out.append(TurnRecord(speaker or "Unknown", text, start_time=time))
    speakers = {r.speaker for r in out}
    return merge_same_speaker(out) if out and len(speakers) < max(3, len(out) // 2) else None


def odt_blocks(path: Path, data: bytes) -> list[list[str]]:
    """Paragraphs, headings, list items and table rows of an OpenDocument text, in order."""
    zf = open_zip(path, data, "OpenDocument", "open it in LibreOffice and save it as .odt again")
    from odf import teletype
    from odf.namespaces import TABLENS, TEXTNS
    from odf.opendocument import load
    try:
        with zf:
            doc = load(io.BytesIO(data))
    except Exception as exc:  # odfpy raises many kinds for damaged files
        raise TranscriptFormatError(path, f"not a readable OpenDocument text ({type(exc).__name__});"
                                    " open it in LibreOffice and save it as .odt again") from exc
    blocks: list[list[str]] = []

    def walk(node):
        for child in node.childNodes:
            qname = getattr(child, "qname", None)
            if qname in ((TEXTNS, "p"), (TEXTNS, "h")):
                blocks.append([teletype.extractText(child)])
            elif qname == (TABLENS, "table-row"):
                cells = [c for c in child.childNodes
                         if getattr(c, "qname", None) == (TABLENS, "table-cell")]
                blocks.append(["\n".join(teletype.extractText(p) for p in c.childNodes
                                         if getattr(p, "qname", None) == (TEXTNS, "p"))
                               for c in cells])
            elif qname is not None and qname[1] not in ("tracked-changes", "note",
                                                          "sequence-decls"):
                walk(child)

    walk(doc.text)
    return blocks


def read_odt(path: Path, data: bytes, settings: dict | None = None) -> list[Document]:
    """OpenDocument text (.odt): paragraphs as lines; speaker | text tables as turns."""
    return _document_text(path, odt_blocks(path, data))


def docx_blocks(path: Path, data: bytes) -> list[list[str]]:
    """Paragraphs and table rows of a Word document, in order."""
    open_zip(path, data, "Word .docx", "open it in Word and save it as .docx again").close()
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds for damaged files
        raise TranscriptFormatError(path, f"not a readable Word document ({type(exc).__name__}); "
                                    "open it in Word and save it as .docx again") from exc
    blocks: list[list[str]] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            blocks.append([Paragraph(child, document).text])
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells, seen = [], set()
                for cell in row.cells:
                    if id(cell._tc) in seen:  # merged cells repeat
                        continue
                    seen.add(id(cell._tc))
                    cells.append(cell.text)
                blocks.append(cells)
    return blocks


def read_docx(path: Path, data: bytes, settings: dict | None = None) -> list[Document]:
    """Word .docx: paragraphs as lines; speaker | text tables as turns."""
    return _document_text(path, docx_blocks(path, data))


def read_pdf(path: Path, data: bytes, settings: dict | None = None) -> list[Document]:
    """PDF text layer, page by page (scanned PDFs without text are refused)."""
    if not data.startswith(b"%PDF"):
        raise TranscriptFormatError(path, "not a PDF file (damaged or renamed); export the "
                                    "transcript as PDF or text again")
    try:
        from pypdf import PdfReader
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many kinds for damaged files
        raise TranscriptFormatError(path, f"not a readable PDF ({type(exc).__name__}); export the "
                                    "transcript as PDF or text again") from exc
    lines = []
    for page in pages:
        lines.extend(line.rstrip() for line in page.replace("\r\n", "\n").split("\n"))
    text = "\n".join(lines)
    if not text.strip():
        raise TranscriptFormatError(path, "the PDF has no text layer (a scan?); run OCR on it or "
                                    "save the transcript as text")
    return [Document(text)]
