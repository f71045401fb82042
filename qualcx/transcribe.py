"""Ingest (Kvale's stage 4): transcripts become interviews, turns and segments.

A transcript's canonical text is the file's decoded text with line endings normalised;
every turn and segment keeps character offsets into it.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import TranscriptFormatError

TEXT_SUFFIXES = {".txt", ".md", ".text"}
METADATA_FILE = "metadata.csv"
LABEL_RE = re.compile(
    r"^[ \t]*(?:\[(?P<ts>\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)\][ \t]*)?"
    r"(?P<label>[^\W\d_][\w .'’()\-]{0,38}?)[ \t]*:[ \t]+(?=\S)", re.UNICODE)


@dataclass(frozen=True)
class Turn:
    idx: int
    speaker: str
    role: str  # "interviewer" or "respondent"
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Segment:
    turn_idx: int
    idx: int
    start: int
    end: int
    text: str


@dataclass
class Transcript:
    """A parsed transcript, before it is written to the store."""

    id: str
    file: str
    sha256: str
    text: str
    turns: list[Turn]
    metadata: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)

    @property
    def respondent_words(self) -> int:
        return sum(len(t.text.split()) for t in self.turns if t.role == "respondent")


def decode(data: bytes, path: Path) -> tuple[str, str | None]:
    """Decode bytes as UTF-8 (with or without BOM), UTF-16 with BOM, or cp1252.

    Returns the text and a warning when a legacy encoding had to be guessed.
    """
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16"), None
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
    if not data.strip():
        raise TranscriptFormatError(path, "the file is empty; add the transcript text or remove it")
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TranscriptFormatError(path, "looks like a binary file, not a text transcript")
    text, warning = decode(data, path)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, [warning] if warning else []


def _label_lines(text: str) -> list[tuple[int, int, str, int]]:
    """(line start, content start, label, line end) for every line that starts with a label."""
    found = []
    pos = 0
    for line in text.split("\n"):
        match = LABEL_RE.match(line)
        if match:
            found.append((pos, pos + match.end(), match.group("label").strip(), pos + len(line)))
        pos += len(line) + 1
    return found


def parse_turns(text: str, interviewer_labels: list[str], path: Path
                ) -> tuple[list[Turn], list[str]]:
    """Split a transcript into speaker turns.

    A label counts as a speaker when it opens at least two lines, or is a known interviewer
    label; other lines continue the current turn. A file without labels is one monologue.
    """
    warnings: list[str] = []
    interviewer_set = {x.lower() for x in interviewer_labels}
    candidates = _label_lines(text)
    counts = Counter(label.lower() for _, _, label, _ in candidates)
    strong = {lab for lab, n in counts.items() if n >= 2 or lab in interviewer_set}
    asks = {end for _, _, label, end in candidates if label.lower() in interviewer_set}
    first_content = len(text) - len(text.lstrip())

    def opens_turn(line_start: int, label: str) -> bool:
        # A label seen once still opens a turn when it starts a paragraph or answers the
        # interviewer's line right above it.
        if label.lower() in strong:
            return True
        return len(label.split()) <= 4 and (line_start <= first_content
                                            or text.startswith("\n\n", line_start - 2)
                                            or line_start - 1 in asks)
    labels = [c for c in candidates if opens_turn(c[0], c[2])]
    if not labels:
        stripped = text.strip()
        start = text.index(stripped[:1]) if stripped else 0
        warnings.append(f"{path.name}: no speaker labels found; read as one respondent's "
                        "monologue (label turns as 'Name: text' to separate speakers)")
        return [Turn(0, "Respondent", "respondent", start, start + len(stripped), stripped)], warnings
    if labels[0][0] > 0 and text[:labels[0][0]].strip():
        warnings.append(f"{path.name}: text before the first speaker label was skipped")
    raw: list[tuple[str, int, int]] = []
    for i, (_, content_start, label, _) in enumerate(labels):
        end = labels[i + 1][0] if i + 1 < len(labels) else len(text)
        body = text[content_start:end]
        end = content_start + len(body.rstrip())
        raw.append((label, content_start, end))
    roles = _assign_roles([(lab, text[s:e]) for lab, s, e in raw], interviewer_set)
    turns = [Turn(i, lab, roles[lab], s, e, text[s:e]) for i, (lab, s, e) in enumerate(raw)
             if e > s]
    turns = [Turn(i, t.speaker, t.role, t.start, t.end, t.text) for i, t in enumerate(turns)]
    return turns, warnings


def _assign_roles(turns: list[tuple[str, str]], interviewer_set: set[str]) -> dict[str, str]:
    speakers = list(dict.fromkeys(label for label, _ in turns))
    roles = {s: ("interviewer" if s.lower() in interviewer_set else "respondent") for s in speakers}
    if "interviewer" in roles.values() or len(speakers) < 2:
        return roles
    # No configured label: the speaker whose turns are most often questions is the interviewer.
    share = {}
    for speaker in speakers:
        own = [body for label, body in turns if label == speaker]
        share[speaker] = sum(body.rstrip().endswith("?") for body in own) / len(own)
    best = max(speakers, key=lambda s: (share[s], -speakers.index(s)))
    if share[best] >= 0.3:
        roles[best] = "interviewer"
    return roles


def segment_turns(turns: list[Turn], nlp, unit: str = "chunk", chunk_words: int = 80
                  ) -> list[Segment]:
    """Split respondent turns into coding units on spaCy sentence boundaries."""
    segments: list[Segment] = []
    respondent = [t for t in turns if t.role == "respondent"]
    docs = nlp.pipe([t.text for t in respondent], batch_size=64) if unit != "turn" else None
    for turn, doc in zip(respondent, docs or [None] * len(respondent)):
        if doc is None:
            spans = [(0, len(turn.text))]
        else:
            spans = [_strip_span(turn.text, s.start_char, s.end_char) for s in doc.sents]
            spans = [s for s in spans if s[1] > s[0]]
            if unit == "chunk":
                spans = _chunk(turn.text, spans, chunk_words)
        for start, end in spans:
            segments.append(Segment(turn.idx, len(segments), turn.start + start, turn.start + end,
                                    turn.text[start:end]))
    return segments


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    return start + lead, start + len(piece.rstrip())


def _chunk(text: str, spans: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Merge consecutive sentences into pieces of at most ``limit`` words.

    Very short sentences ("Yeah.") are kept with their neighbours rather than standing alone.
    """
    chunks: list[list[int]] = []
    words = 0
    for start, end in spans:
        n = len(text[start:end].split())
        if chunks and words + n <= limit:
            chunks[-1][1] = end
            words += n
        else:
            chunks.append([start, end])
            words = n
    if len(chunks) > 1 and len(text[chunks[-1][0]:chunks[-1][1]].split()) < 8:
        last = chunks.pop()
        chunks[-1][1] = last[1]
    return [(s, e) for s, e in chunks]


def read_metadata(folder: Path) -> tuple[dict[str, dict], list[str]]:
    """Read ``interviews/metadata.csv``: one row per interview, keyed by file name or id."""
    path = folder / METADATA_FILE
    if not path.exists():
        return {}, []
    text, warnings = read_text_file(path)
    reader = csv.DictReader(text.splitlines())
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "file" not in fields and "id" not in fields:
        raise TranscriptFormatError(path, "needs a 'file' or an 'id' column naming each interview",
                                    1)
    rows = {}
    for line_no, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        key = row.get("file") or row.get("id")
        if not key:
            raise TranscriptFormatError(path, "row has no file or id", line_no)
        row["_order"] = line_no
        rows[key] = row
        if row.get("id"):
            rows.setdefault(row["id"], row)
    return rows, warnings


def _metadata_for(path: Path, folder: Path, metadata: dict[str, dict]) -> dict:
    rel = path.relative_to(folder).as_posix()
    for key in (rel, path.name, path.stem):
        if key in metadata:
            return metadata[key]
    return {}


def find_transcripts(folder: Path) -> list[Path]:
    """Every file under ``folder`` (recursively) except metadata and hidden files."""
    files = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or any(p.startswith(".") for p in path.relative_to(folder).parts):
            continue
        if path.name == METADATA_FILE or path.name.lower().startswith("readme"):
            continue
        files.append(path)
    return files


def parse_transcript(path: Path, folder: Path, metadata: dict[str, dict],
                     interviewer_labels: list[str]) -> Transcript:
    """Read one transcript file into turns (no segmentation yet).

    Raises:
        TranscriptFormatError: the file cannot be read as a transcript.
    """
    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise TranscriptFormatError(path, f"unsupported file type '{path.suffix}'; save it as "
                                    "plain text (.txt) with 'Name: text' speaker labels")
    data = path.read_bytes()
    text, warnings = read_text_file(path, data)
    turns, more = parse_turns(text, interviewer_labels, path)
    if not any(t.role == "respondent" for t in turns):
        raise TranscriptFormatError(path, "every turn is the interviewer's; check the speaker "
                                    "labels and the interviewer_labels setting")
    meta = _metadata_for(path, folder, metadata)
    interview_id = meta.get("id") or path.stem
    clean_meta = {k: v for k, v in meta.items() if k not in ("id", "file", "_order") and v != ""}
    return Transcript(id=interview_id, file=path.relative_to(folder).as_posix(),
                      sha256=hashlib.sha256(data).hexdigest(), text=text,
                      turns=turns, metadata=clean_meta, warnings=warnings + more)


def order_key(transcript: Transcript, metadata: dict[str, dict]) -> tuple:
    row = metadata.get(transcript.file) or metadata.get(transcript.id) or {}
    return (row.get("_order", 10**9), transcript.file)


def metadata_json(meta: dict) -> str:
    return json.dumps(meta, sort_keys=True, ensure_ascii=False)


ProgressFn = Callable[[int], None]


@dataclass
class IngestResult:
    """What an ingest did: per-interview rows, files that failed, human codes that lost their text."""

    rows: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    orphaned: list[dict] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _segmentation_key(settings: dict) -> str:
    keys = ("segment_unit", "chunk_words", "spacy_model", "interviewer_labels")
    return json.dumps({k: settings[k] for k in keys}, sort_keys=True)


def ingest(project, progress: ProgressFn | None = None, nlp=None) -> IngestResult:
    """Read every transcript in the project's ``interviews/`` folder into the store.

    Unchanged files (same content hash and segmentation settings) are skipped. A changed
    file's machine codes are dropped; its human codes are re-attached to the segment that
    holds their text, or kept unattached and listed in ``orphaned``.

    Args:
        project: the :class:`~qualcx.project.Project`.
        progress: called with 1 after each file.
        nlp: a spaCy pipeline with sentence boundaries (default: the ``spacy_model`` setting).
    """
    from .nlp import load_spacy

    project.require_interviews_dir()
    settings = project.settings
    store = project.store
    folder = project.interviews_dir
    result = IngestResult()
    metadata, meta_warnings = read_metadata(folder)
    seg_key = _segmentation_key(settings)
    seg_changed = _meta_value(store, "segmentation") != seg_key
    known = {row["file"]: row for row in store.interviews()}
    seen_ids: dict[str, str] = {}
    parsed: list[Transcript] = []
    for path in find_transcripts(folder):
        try:
            transcript = parse_transcript(path, folder, metadata, settings["interviewer_labels"])
            if transcript.id in seen_ids:
                raise TranscriptFormatError(path, f"interview id '{transcript.id}' is also used by "
                                            f"{seen_ids[transcript.id]}; give each a unique id in "
                                            "metadata.csv")
            seen_ids[transcript.id] = transcript.file
            parsed.append(transcript)
        except TranscriptFormatError as exc:
            result.errors.append(str(exc))
        if progress:
            progress(1)
    parsed.sort(key=lambda t: order_key(t, metadata))
    for ordinal, transcript in enumerate(parsed):
        old = known.pop(transcript.file, None)
        transcript.warnings = meta_warnings * (ordinal == 0) + transcript.warnings
        if (old is not None and old["sha256"] == transcript.sha256 and not seg_changed
                and old["id"] == transcript.id):
            with store.transaction() as db:
                db.execute("UPDATE interviews SET metadata = ?, ordinal = ? WHERE id = ?",
                           (metadata_json(transcript.metadata), ordinal, transcript.id))
            result.skipped.append(transcript.file)
            result.rows.append(_summary_row(store, transcript.id, json.loads(old["warnings"])))
            continue
        if nlp is None and settings["segment_unit"] != "turn":
            nlp = load_spacy(settings["spacy_model"], "sentences")
        transcript.segments = segment_turns(transcript.turns, nlp, settings["segment_unit"],
                                            settings["chunk_words"])
        result.orphaned.extend(_write_transcript(store, transcript, ordinal,
                                                 old["id"] if old else None))
        result.rows.append(_summary_row(store, transcript.id, transcript.warnings))
    for gone in known.values():
        result.orphaned.extend(_write_transcript(store, None, 0, gone["id"]))
        result.removed.append(gone["file"])
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('segmentation', ?)", (seg_key,))
    return result


def _meta_value(store, key: str) -> str | None:
    row = store.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row["value"] if row else None


def _summary_row(store, interview_id: str, warnings: list[str]) -> dict:
    db = store.db
    turns = db.execute("SELECT speaker, role, text FROM turns WHERE interview_id = ?",
                       (interview_id,)).fetchall()
    segments = db.execute("SELECT COUNT(*) FROM segments WHERE interview_id = ?",
                          (interview_id,)).fetchone()[0]
    return {"interview": interview_id,
            "speakers": ", ".join(dict.fromkeys(t["speaker"] for t in turns)),
            "turns": len(turns),
            "respondent_words": sum(len(t["text"].split()) for t in turns
                                    if t["role"] == "respondent"),
            "segments": segments, "warnings": list(warnings)}


def _write_transcript(store, transcript: Transcript | None, ordinal: int,
                      old_id: str | None) -> list[dict]:
    """Replace one interview in the store; returns human codes that could not be re-attached."""
    orphaned: list[dict] = []
    with store.transaction() as db:
        if old_id is not None:
            db.execute("DELETE FROM codings WHERE interview_id = ? AND is_machine = 1", (old_id,))
            db.execute("DELETE FROM interviews WHERE id = ?", (old_id,))
        if transcript is None:
            return [dict(r) for r in db.execute(
                "SELECT * FROM codings WHERE interview_id = ? AND segment_id IS NULL", (old_id,))]
        db.execute("INSERT INTO interviews (id, file, sha256, text, metadata, ordinal, warnings) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (transcript.id, transcript.file, transcript.sha256, transcript.text,
                    metadata_json(transcript.metadata), ordinal,
                    json.dumps(transcript.warnings, ensure_ascii=False)))
        turn_ids = {}
        for turn in transcript.turns:
            cur = db.execute('INSERT INTO turns (interview_id, idx, speaker, role, start, "end", '
                             "text) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (transcript.id, turn.idx, turn.speaker, turn.role, turn.start,
                              turn.end, turn.text))
            turn_ids[turn.idx] = cur.lastrowid
        db.executemany('INSERT INTO segments (interview_id, turn_id, idx, start, "end", text) '
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       [(transcript.id, turn_ids[s.turn_idx], s.idx, s.start, s.end, s.text)
                        for s in transcript.segments])
        if old_id is not None:
            orphaned = _reattach_human_codes(db, transcript.id, old_id)
    return orphaned


def _reattach_human_codes(db, interview_id: str, old_id: str) -> list[dict]:
    """Point human codes of a re-read interview at the segment that now holds their text."""
    segments = db.execute('SELECT id, start, "end", text FROM segments WHERE interview_id = ?',
                          (interview_id,)).fetchall()
    text = db.execute("SELECT text FROM interviews WHERE id = ?", (interview_id,)).fetchone()[0]
    orphaned = []
    for coding in db.execute("SELECT * FROM codings WHERE interview_id = ? AND is_machine = 0",
                             (old_id,)).fetchall():
        where = text.find(coding["text"]) if coding["text"] else -1
        target = None
        if where >= 0:
            end = where + len(coding["text"])
            overlaps = [(min(end, s["end"]) - max(where, s["start"]), s["id"]) for s in segments]
            overlaps = [o for o in overlaps if o[0] > 0]
            target = max(overlaps)[1] if overlaps else None
        if target is None:
            db.execute("UPDATE codings SET segment_id = NULL, interview_id = ? WHERE id = ?",
                       (interview_id, coding["id"]))
            orphaned.append(dict(coding))
        else:
            db.execute('UPDATE codings SET segment_id = ?, interview_id = ?, start = ?, "end" = ? '
                       "WHERE id = ?", (target, interview_id, where, where + len(coding["text"]),
                                        coding["id"]))
    return orphaned
