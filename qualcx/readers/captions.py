"""WebVTT and SubRip captions: cues merged into turns per speaker, times kept."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import TranscriptFormatError
from .base import Document, TurnRecord, merge_same_speaker, parse_time, read_text_file, turns_text

CUE_TIME_RE = re.compile(
    r"^\s*(?P<a>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<b>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})")
VOICE_RE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
TAG_RE = re.compile(r"</?[^>]+>")
PREFIX_RE = re.compile(r"^(?:-\s*)?(?P<name>[^\W\d_][\w .'’()\-]{0,38}?)\s*:\s+(?=\S)")


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
    records = merge_same_speaker(records)
    return [Document(turns_text(records), turns=records, warnings=warnings)]
