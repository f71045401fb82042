"""One reader per transcript format.

A reader turns a file's bytes into one or more :class:`Document`: the interview's canonical
text and, for formats that carry speakers in their structure (captions, speaker tables,
spreadsheets), the turn records. Documents whose ``turns`` is ``None`` have speaker labels in
their text, which :func:`qualcx.transcribe.parse_turns` finds.

Every reader has the signature ``reader(path, data, settings) -> list[Document]`` and raises
:class:`~qualcx.errors.TranscriptFormatError` naming the file and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import TranscriptFormatError
from .base import (Document, TurnRecord, decode, merge_same_speaker, parse_time, read_text_file,
                   turn_offsets, turns_text)
from .captions import read_captions
from .documents import docx_blocks, odt_blocks, read_docx, read_odt, read_pdf
from .tables import read_table, table_rows
from .text import read_text, split_front_matter

__all__ = ["Document", "TurnRecord", "READERS", "read_document", "read_text", "read_odt",
           "read_docx", "read_pdf", "read_captions", "read_table", "decode", "read_text_file",
           "split_front_matter", "table_rows", "odt_blocks", "docx_blocks", "parse_time",
           "merge_same_speaker", "turns_text", "turn_offsets"]

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
