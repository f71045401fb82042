"""Plain text and Markdown, with optional YAML front matter."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import TranscriptFormatError
from .base import Document, read_text_file

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
