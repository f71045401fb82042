"""One reader per transcript format.

A reader turns a file's bytes into one or more :class:`Document`: the interview's canonical
text and, for formats that carry speakers in their structure (captions, tables), the turn
records. Documents whose ``turns`` is ``None`` have speaker labels in their text, which
:func:`qualcx.transcribe.parse_turns` finds.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import TranscriptFormatError


@dataclass(frozen=True)
class TurnRecord:
    """One speaker turn as a reader sees it, before offsets into the canonical text."""

    speaker: str
    text: str
    start_time: float | None = None
    end_time: float | None = None
    question_id: str | None = None  # guide question, when the format says (wide tables)
    role: str | None = None  # "interviewer"/"respondent" when the format says


@dataclass
class Document:
    """What a reader returns for one interview."""

    text: str
    turns: list[TurnRecord] | None = None
    key: str | None = None  # interview id inside a file holding several (tables)
    metadata: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# -- plain text -----------------------------------------------------------------------------

def decode(data: bytes, path: Path) -> tuple[str, str | None]:
    """Decode bytes as UTF-8 (with or without BOM), UTF-16 with BOM, or cp1252.

    Returns the text and a warning when a legacy encoding had to be guessed.
    """
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError as exc:
            raise TranscriptFormatError(path, "starts like UTF-16 but cannot be decoded; save the "
                                        "file as UTF-8 and ingest again") from exc
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise TranscriptFormatError(path, "the bytes are neither UTF-8, UTF-16 nor cp1252; save "
                                    "the file as UTF-8 and ingest again") from exc
    return text, f"{path.name}: not UTF-8; read as cp1252 (Windows-1252)"


def read_text_file(path: Path, data: bytes | None = None) -> tuple[str, list[str]]:
    """Decode a text file (or its already-read ``data``) with line endings normalised."""
    data = path.read_bytes() if data is None else data
    if not data.strip() or not data.strip(codecs.BOM_UTF8 + b" \t\r\n"):
        raise TranscriptFormatError(path, "the file is empty; add the transcript text or remove it")
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TranscriptFormatError(path, "looks like a binary file, not a text transcript; save "
                                    "it as .txt, .docx, .odt, .pdf, .vtt, .srt, .csv or .xlsx")
    text, warning = decode(data, path)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise TranscriptFormatError(path, "the file is empty; add the transcript text or remove it")
    return text, [warning] if warning else []


FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def split_front_matter(text: str, path: Path) -> tuple[str, dict]:
    """Take YAML front matter (``---`` … ``---`` at the top) off a text as metadata.

    The text keeps its length: the front matter is blanked with spaces, so offsets into the
    canonical text still point at the same characters as in the file.
    """
    match = FRONT_MATTER_RE.match(text)
    if not match:
        return text, {}
    import yaml
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 2
        raise TranscriptFormatError(path, f"front matter is not valid YAML ({exc.__class__.__name__})"
                                    "; fix it or remove the block between the '---' lines",
                                    line) from exc
    if not isinstance(data, dict):
        raise TranscriptFormatError(path, "front matter must be 'key: value' lines", 2)
    meta = {str(k).strip().lower(): ("" if v is None else str(v)) for k, v in data.items()}
    blank = re.sub(r"[^\n]", " ", match.group(0))
    return blank + text[match.end():], meta


def read_text(path: Path, data: bytes, settings: dict | None = None) -> list[Document]:
    """Plain text and Markdown, with optional YAML front matter."""
    text, warnings = read_text_file(path, data)
    text, meta = split_front_matter(text, path)
    if not text.strip():
        raise TranscriptFormatError(path, "has front matter but no transcript text")
    return [Document(text, metadata=meta, warnings=warnings)]


# -- word-processor documents ------------------------------------------------------------------

def _open_zip(path: Path, data: bytes, kind: str, fix: str) -> zipfile.ZipFile:
    if not data.strip():
        raise TranscriptFormatError(path, "the file is empty; add the transcript text or remove it")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise TranscriptFormatError(path, f"not a valid {kind} file (damaged or renamed); {fix}"
                                    ) from exc


def _document_text(path: Path, blocks: list[list[str]]) -> list[Document]:
    """Join paragraph blocks (a paragraph is ``[text]``, a table row is ``[cell, …]``)."""
    rows = [b for b in blocks if len(b) > 1]
    records = _table_turns(rows)
    if records is not None and sum(len(" ".join(r)) for r in rows) * 2 >= sum(
            len(" ".join(b)) for b in blocks):
        return [Document(turns_text(records), turns=records)]
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
    return _merge_same_speaker(out) if out and len(speakers) < max(3, len(out) // 2) else None


def odt_blocks(path: Path, data: bytes) -> list[list[str]]:
    """Paragraphs, headings, list items and table rows of an OpenDocument text, in order."""
    zf = _open_zip(path, data, "OpenDocument", "open it in LibreOffice and save it as .odt again")
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
    _open_zip(path, data, "Word .docx", "open it in Word and save it as .docx again").close()
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


# -- captions ---------------------------------------------------------------------------------

CUE_TIME_RE = re.compile(
    r"^\s*(?P<a>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<b>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})")
VOICE_RE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
TAG_RE = re.compile(r"</?[^>]+>")
PREFIX_RE = re.compile(r"^(?:-\s*)?(?P<name>[^\W\d_][\w .'’()\-]{0,38}?)\s*:\s+(?=\S)")


def parse_time(value: str) -> float:
    """``01:02:03.5``, ``02:03,5`` or ``1:02`` in seconds."""
    parts = value.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def read_captions(path: Path, data: bytes, settings: dict | None = None) -> list[Document]:
    """WebVTT (.vtt) and SubRip (.srt): cues merged into turns per speaker, times kept.

    Speakers come from ``<v Name>`` voice tags or ``Name:`` prefixes; a cue without either
    continues the previous speaker. Overlapping cues are ordered by start time.
    """
    text, warnings = read_text_file(path, data)
    cues: list[tuple[float, float, int, str | None, str]] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        match = CUE_TIME_RE.match(lines[i])
        if not match:
            i += 1
            continue
        start, end = parse_time(match.group("a")), parse_time(match.group("b"))
        body = []
        i += 1
        while i < len(lines) and lines[i].strip():
            body.append(lines[i].strip())
            i += 1
        speaker = None
        pieces = []
        for line in body:
            voice = VOICE_RE.search(line)
            if voice:
                speaker = speaker or voice.group(1).strip()
            line = TAG_RE.sub("", line).strip()
            prefix = PREFIX_RE.match(line)
            if prefix and speaker is None:
                speaker = prefix.group("name").strip()
                line = line[prefix.end():]
            if line:
                pieces.append(line)
        if pieces:
            cues.append((start, end, len(cues), speaker, " ".join(pieces)))
    if not cues:
        raise TranscriptFormatError(path, "no caption cues found ('00:00:01.000 --> "
                                    "00:00:04.000' lines); check the file is WebVTT or SubRip")
    cues.sort(key=lambda c: (c[0], c[2]))
    if all(c[3] is None for c in cues):
        warnings.append(f"{path.name}: captions name no speakers; read as one respondent's "
                        "monologue (use <v Name> tags or 'Name:' prefixes to separate speakers)")
    records: list[TurnRecord] = []
    current = None
    for start, end, _, speaker, body in cues:
        speaker = speaker or current or "Respondent"
        current = speaker
        records.append(TurnRecord(speaker, body, start_time=start, end_time=end))
    records = _merge_same_speaker(records)
    return [Document(turns_text(records), turns=records, warnings=warnings)]


def _merge_same_speaker(records: list[TurnRecord]) -> list[TurnRecord]:
    out: list[TurnRecord] = []
    for r in records:
        if out and out[-1].speaker == r.speaker and out[-1].question_id == r.question_id:
            prev = out[-1]
            times = [t for t in (prev.end_time, r.end_time) if t is not None]
            out[-1] = TurnRecord(prev.speaker, prev.text + " " + r.text,
                                 prev.start_time if prev.start_time is not None else r.start_time,
                                 max(times) if times else None, prev.question_id, prev.role)
        else:
            out.append(r)
    return out


def turns_text(records: list[TurnRecord]) -> str:
    """The canonical text of structured turns: ``Speaker: text`` paragraphs."""
    return "".join(f"{r.speaker}: {r.text}\n\n" for r in records)


def turn_offsets(records: list[TurnRecord]) -> list[tuple[int, int]]:
    """Where each record's text sits in :func:`turns_text`."""
    out, pos = [], 0
    for r in records:
        start = pos + len(r.speaker) + 2
        out.append((start, start + len(r.text)))
        pos = start + len(r.text) + 2
    return out


# -- tables -------------------------------------------------------------------------------------

COLUMN_NAMES = {
    "interview": ("interview", "interview_id", "interview id", "transcript", "transcript_id",
                  "session", "participant", "participant_id", "respondent_id", "file", "id"),
    "speaker": ("speaker", "speaker_name", "speaker name", "name", "who", "role"),
    "text": ("text", "utterance", "content", "answer", "response", "said", "turn", "transcript"),
    "time": ("start", "start_time", "time", "timestamp", "begin"),
}


def _find_column(header: list[str], role: str, override: str | None, path: Path,
                 taken: set[int]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    if override:
        if override.strip().lower() not in lowered:
            raise TranscriptFormatError(path, f"no column '{override}' (set as the {role} column in "
                                        f"qualcx.toml); the columns are: {', '.join(header)}", 1)
        return lowered.index(override.strip().lower())
    for name in COLUMN_NAMES[role]:
        if name in lowered and lowered.index(name) not in taken:
            return lowered.index(name)
    return None


def table_rows(path: Path, data: bytes, max_rows: int) -> tuple[Iterator[list[str]], list[str]]:
    """Rows of a CSV or the first sheet of an XLSX, streamed, as lists of strings."""
    warnings: list[str] = []
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        _open_zip(path, data, "Excel .xlsx", "open it in a spreadsheet program and save it as "
                  ".xlsx again").close()
        try:
            import openpyxl
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = book.worksheets[0]
        except Exception as exc:  # openpyxl raises many kinds for damaged files
            raise TranscriptFormatError(path, f"not a readable Excel workbook ({type(exc).__name__})"
                                        "; save it as .xlsx or .csv again") from exc

        def xlsx_rows():
            for row in sheet.iter_rows(values_only=True):
                yield ["" if v is None else _cell(v) for v in row]
            book.close()
        rows: Iterable[list[str]] = xlsx_rows()
    else:
        text, warnings = read_text_file(path, data)
        sample = text[:4096]
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = csv.reader(io.StringIO(text), dialect)

    def limited():
        for n, row in enumerate(rows):
            if n > max_rows:
                raise TranscriptFormatError(path, f"has more than {max_rows} rows; split it or "
                                            "raise the max_table_rows setting in qualcx.toml")
            yield [c.strip() for c in row]
    return limited(), warnings


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(path: Path, data: bytes, settings: dict) -> list[Document]:
    """CSV and XLSX tables.

    Long form (one row per turn: interview, speaker and text columns, found by common names or
    set with ``table_columns``) gives one document per interview. Wide form (one row per
    participant, guide-question columns set with ``table_questions``) gives one document per
    row: each answer a turn linked to its question, the other columns the metadata.
    """
    rows, warnings = table_rows(path, data, int(settings.get("max_table_rows", 100000)))
    header = next(rows, None)
    while header is not None and not any(header):
        header = next(rows, None)
    if header is None:
        raise TranscriptFormatError(path, "the table is empty; add rows or remove the file")
    columns = settings.get("table_columns") or {}
    questions = settings.get("table_questions") or {}
    if questions:
        return _wide(path, header, rows, columns, questions, warnings)
    taken: set[int] = set()
    found = {}
    for role in ("text", "speaker", "interview", "time"):
        found[role] = _find_column(header, role, columns.get(role), path, taken)
        if found[role] is not None:
            taken.add(found[role])
    if found["text"] is None:
        raise TranscriptFormatError(path, "no text column found (looked for "
                                    f"{', '.join(COLUMN_NAMES['text'])}); name it in qualcx.toml "
                                    "as table_columns = { text = \"...\" }, or list the question "
                                    "columns of a wide table in table_questions", 1)
    by_interview: dict[str, list[TurnRecord]] = {}
    for line_no, row in enumerate(rows, start=2):
        row = row + [""] * (len(header) - len(row))
        text = row[found["text"]]
        if not text:
            continue
        key = row[found["interview"]] if found["interview"] is not None else path.stem
        if not key:
            raise TranscriptFormatError(path, "row has text but no interview id", line_no)
        speaker = row[found["speaker"]] if found["speaker"] is not None else "Respondent"
        time = None
        if found["time"] is not None and row[found["time"]]:
            try:
                time = parse_time(row[found["time"]]) if ":" in row[found["time"]] else float(
                    row[found["time"]])
            except ValueError:
                time = None
        by_interview.setdefault(key, []).append(TurnRecord(speaker or "Unknown", text,
                                                           start_time=time))
    if not by_interview:
        raise TranscriptFormatError(path, "the table has no rows with text")
    single = found["interview"] is None
    docs = []
    for key, records in by_interview.items():
        records = _merge_same_speaker(records)
        docs.append(Document(turns_text(records), turns=records, key=None if single else key,
                             warnings=list(warnings)))
    return docs


def _wide(path, header, rows, columns, questions, warnings) -> list[Document]:
    lowered = [h.strip().lower() for h in header]
    qcols = []
    for column, question_id in questions.items():
        if column.strip().lower() not in lowered:
            raise TranscriptFormatError(path, f"no column '{column}' (listed in table_questions in "
                                        f"qualcx.toml); the columns are: {', '.join(header)}", 1)
        qcols.append((lowered.index(column.strip().lower()), column, str(question_id) or None))
    id_col = _find_column(header, "interview", columns.get("interview"), path,
                          {i for i, _, _ in qcols})
    question_idx = {i for i, _, _ in qcols}
    docs = []
    for line_no, row in enumerate(rows, start=2):
        row = row + [""] * (len(header) - len(row))
        if not any(row):
            continue
        key = row[id_col] if id_col is not None and row[id_col] else f"{path.stem}-{line_no}"
        records = []
        for i, column, question_id in qcols:
            if row[i]:
                records.append(TurnRecord("Interviewer", column, question_id=question_id,
                                          role="interviewer"))
                records.append(TurnRecord("Respondent", row[i], question_id=question_id,
                                          role="respondent"))
        meta = {header[i].strip().lower(): v for i, v in enumerate(row)
                if i not in question_idx and i != id_col and v and header[i].strip()}
        if records:
            docs.append(Document(turns_text(records), turns=records, key=key, metadata=meta,
                                 warnings=list(warnings)))
    if not docs:
        raise TranscriptFormatError(path, "no answers in the question columns")
    return docs


Reader = Callable[[Path, bytes, dict], list[Document]]

READERS: dict[str, Reader] = {
    ".txt": read_text, ".md": read_text, ".text": read_text, ".markdown": read_text,
    ".odt": read_odt, ".docx": read_docx, ".pdf": read_pdf,
    ".vtt": read_captions, ".srt": read_captions,
    ".csv": read_table, ".tsv": read_table, ".xlsx": read_table, ".xlsm": read_table,
}


def read_document(path: Path, data: bytes, settings: dict) -> list[Document]:
    """Read one transcript file with the reader for its suffix.

    Raises:
        TranscriptFormatError: unsupported type, or the file cannot be read.
    """
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise TranscriptFormatError(
            path, f"unsupported file type '{path.suffix}'; save it as .txt, .docx, .odt, .pdf, "
                  ".vtt, .srt, .csv or .xlsx (or move it out of interviews/)")
    return reader(path, data, settings)
