"""Plain records shared by the readers, text decoding, and the canonical text of turns."""

from __future__ import annotations

import codecs
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TranscriptFormatError


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
    metadata_source: str = "its front matter"  # where ``metadata`` was read, for warnings


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


SKIPPED_CHARS = 60  # of the skipped text quoted in a warning


def skipped_warning(path: Path, what: str, parts: list[str]) -> str:
    """One warning naming the file, the text a reader did not read, and the start of it."""
    text = " / ".join(" ".join(p.split()) for p in parts if p.strip())
    if len(text) > SKIPPED_CHARS:
        text = text[:SKIPPED_CHARS - 1].rstrip() + "…"
    return f"{path.name}: {what} was skipped: \"{text}\""


def parse_time(value: str) -> float:
    """``01:02:03.5``, ``02:03,5`` or ``1:02`` in seconds."""
    parts = value.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def open_zip(path: Path, data: bytes, kind: str, fix: str) -> zipfile.ZipFile:
    """The file as a zip archive (.docx, .odt and .xlsx are), or a clear error."""
    if not data.strip():
        raise TranscriptFormatError(path, "the file is empty; add the transcript text or remove it")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise TranscriptFormatError(path, f"not a valid {kind} file (damaged or renamed); {fix}"
                                    ) from exc


def merge_same_speaker(records: list[TurnRecord]) -> list[TurnRecord]:
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


