"""CSV and XLSX tables in long form (one row per turn) or wide form (one row per participant)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import TranscriptFormatError
from .base import Document, TurnRecord, merge_same_speaker, open_zip, parse_time, read_text_file, \
    turns_text

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
        open_zip(path, data, "Excel .xlsx", "open it in a spreadsheet program and save it as "
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
        records = merge_same_speaker(records)
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
                                 warnings=list(warnings),
                                 metadata_source=f"its table row (line {line_no})"))
    if not docs:
        raise TranscriptFormatError(path, "no answers in the question columns")
    return docs
