"""Human codes (Kvale's stage 6): import a researcher's codings and anchor them to segments.

A human coding file is a CSV (UTF-8, UTF-16 or cp1252; comma, semicolon or tab) or an XLSX
sheet with one row per coded passage: the interview, the code, the coder, and either the
passage text or its start/end character offsets in the interview's text. Taguette's export
(``id, document, tag, content``) is read as it is.

**From a passage to segments.** A passage is found in its interview's canonical text (by
offsets, or by its text, ignoring differences of whitespace, case and punctuation). It codes
every respondent segment of which it covers at least half, and the segment that holds at
least half of the passage; when no segment qualifies, the segment with the largest overlap.
One coding row is stored per coded segment, holding the part of the passage inside that
segment; the whole passage's span is kept in the coding's evidence. A coder applies a code to
a segment at most once, so importing the same file again adds nothing.

**After a transcript is corrected.** A re-ingest re-anchors human codes and rejections by
their exact text; when a correction changed that text, :meth:`InterviewText.find_near` looks
for the passage's edited version: text at least ``REANCHOR_SIMILARITY`` alike (difflib's
character ratio) and within ``REANCHOR_LENGTH`` of its length. A typo fix or an added word
keeps the code; a rewritten or deleted passage does not, so nothing is re-anchored to text
the researcher never coded.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from .errors import _LocatedError


class HumanCodesError(_LocatedError):
    """A human codings file or review sheet cannot be read."""


ROLE_NAMES = {
    "interview": ("interview", "interviewid", "interviewname", "document", "documentname", "doc",
                  "file", "filename", "transcript", "source", "case"),
    "code": ("code", "codeid", "codename", "tag", "tagname", "category", "node", "label", "codes",
             "tags"),
    "coder": ("coder", "codername", "user", "username", "author", "createdby", "annotator",
              "rater"),
    "text": ("text", "content", "passage", "segment", "segmenttext", "codedsegment", "codedtext",
             "quote", "quotation", "excerpt", "highlight", "selection"),
    "start": ("start", "startoffset", "startchar", "begin", "from", "offsetstart"),
    "end": ("end", "endoffset", "endchar", "stop", "to", "offsetend"),
}

MIN_SHARE = 0.5  # a passage codes a segment it covers at least half of (or holding half of it)
_PUNCT = ".,;:!?\"'()[]…’”“-–—*"
_ENDS = 40       # characters of a passage's start and end used when its middle differs
# An edited passage is re-anchored to the text most like it when the two are at least this
# similar (difflib's ratio: twice the matching characters over both lengths; one added word in
# a sentence stays above it, a changed fact in a short phrase falls below) ...
REANCHOR_SIMILARITY = 0.85
REANCHOR_LENGTH = 0.3   # ... and the text's length is within 30% of the passage's
_ANCHORS = 6            # a passage's rarest words, which locate the regions it may now be in
_CANDIDATES = 8         # regions aligned in full, those the most anchor words agree on
_EDGE_BLOCKS = 3        # matching runs at either end of an alignment that may be stray words
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class ImportResult:
    """What an import did.

    Attributes:
        path: the file read.
        imported: coding rows added (one per coded segment).
        passages: rows anchored to the text.
        already: coding rows that were already in the store (a re-import).
        per_coder: coding rows added per coder.
        unanchored: rows that could not be anchored: (row, interview, code, reason); rows are
            numbered as in a spreadsheet (the header is row 1).
        unknown_codes: codes not in the codebook, with their number of rows (imported anyway).
        interviews: the interviews the anchored rows code.
    """

    path: str
    imported: int
    passages: int
    already: int
    per_coder: dict[str, int]
    unanchored: list[tuple[int, str, str, str]] = field(default_factory=list)
    unknown_codes: dict[str, int] = field(default_factory=dict)
    interviews: set[str] = field(default_factory=set)


# -- reading tables --------------------------------------------------------------------------
def _decode(data: bytes, path: Path) -> str:
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise HumanCodesError(path, "the bytes are neither UTF-8, UTF-16 nor cp1252; save the "
                              "file as UTF-8 CSV and import again") from exc


def read_table(path: Path) -> list[list[str]]:
    """The rows of a CSV or XLSX file (first sheet) as lists of strings, header first."""
    path = Path(path)
    if not path.is_file():
        raise HumanCodesError(path, "no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if path.suffix.lower() == ".xls":
        raise HumanCodesError(path, "old Excel .xls files are not read; save the sheet as .xlsx "
                              "or CSV and import again")
    text = _decode(path.read_bytes(), path)
    # The delimiter is the one the header line uses most; csv.Sniffer misreads quoted passages
    # that span lines.
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count)
    try:
        return [[cell.strip() for cell in row]
                for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise HumanCodesError(path, f"not a readable CSV file ({exc}); save it again as CSV "
                              "(UTF-8)") from exc


def _read_xlsx(path: Path) -> list[list[str]]:
    import openpyxl
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for broken files
        raise HumanCodesError(path, f"not a readable .xlsx file ({type(exc).__name__}); save it "
                              "again from the spreadsheet program") from exc
    sheet = book.worksheets[0]
    rows = []
    for values in sheet.iter_rows(values_only=True):
        rows.append(["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer()
                                           else str(v)).strip() for v in values])
    book.close()
    return rows


def _norm_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def find_columns(header: list[str], path: Path, columns: dict | None = None) -> dict[str, int]:
    """Map roles (interview, code, coder, text, start, end) to column positions.

    ``columns`` names a column per role explicitly, e.g. ``{"code": "Tag"}``.
    """
    normed = [_norm_header(h) for h in header]
    found: dict[str, int] = {}
    for role, name in (columns or {}).items():
        if not name:
            continue
        if _norm_header(name) not in normed:
            raise HumanCodesError(path, f"no column '{name}' for the {role}; the columns are: "
                                  + ", ".join(header), 1)
        found[role] = normed.index(_norm_header(name))
    for role, names in ROLE_NAMES.items():
        if role in found:
            continue
        for name in names:
            if name in normed and normed.index(name) not in found.values():
                found[role] = normed.index(name)
                break
    missing = [r for r in ("interview", "code") if r not in found]
    if "text" not in found and not ("start" in found and "end" in found):
        missing.append("text (or start and end)")
    if missing:
        raise HumanCodesError(path, "cannot tell which column holds the " + " and the ".join(missing)
                              + "; the columns are: " + ", ".join(header) + ". Name them with "
                              "--interview-column, --code-column or --text-column", 1)
    return found


# -- anchoring ---------------------------------------------------------------------------------
def normalise(text: str) -> tuple[str, list[int]]:
    """Lower-case letters and digits only, with each kept character's offset in ``text``."""
    chars, where = [], []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).lower():
            if c.isalnum():
                chars.append(c)
                where.append(i)
    return "".join(chars), where


class InterviewText:
    """An interview's canonical text, its normalised form and its respondent segments."""

    def __init__(self, interview_id: str, text: str, segments: list):
        self.id = interview_id
        self.text = text
        self.norm, self.where = normalise(text)
        self.segments = segments
        self.last = 0  # where the previous passage of this interview was found
        self._words = None  # the text's lower-cased words, their offsets and positions by word

    def find(self, passage: str) -> tuple[int, int] | None:
        """The span of ``passage`` in the text, tolerating whitespace, case and punctuation."""
        needle, _ = normalise(passage)
        if not needle:
            return None
        hit = self._find(needle)
        if hit is not None:
            return self._widen(hit, passage)
        if len(needle) >= 3 * _ENDS:
            head = self._find(needle[:_ENDS])
            if head is not None:
                tail_at = self.norm.find(needle[-_ENDS:], self.where.index(head[0]))
                if tail_at >= 0:
                    end = self.where[tail_at + _ENDS - 1] + 1
                    if end - head[0] <= 2 * len(passage):
                        return head[0], end
        return None

    def find_near(self, passage: str, near: int = 0) -> tuple[int, int, float] | None:
        """The span most like ``passage`` (its version in a corrected transcript) and their
        similarity, or None when no span reaches ``REANCHOR_SIMILARITY`` within
        ``REANCHOR_LENGTH`` of the passage's length.

        Long interviews stay fast: the passage's rarest words vote for where it starts, and
        only the regions most votes agree on are aligned word by word (difflib); the ends of
        each alignment are tried with and without stray matches. The most similar span wins;
        a tie goes to the span starting nearest ``near`` (the passage's old offset), then to
        the earlier one, so the same inputs always give the same span.
        """
        words = [w.casefold() for w in _WORD.findall(passage)]
        if not words:
            return None
        tokens, starts, ends, index = self._tokens()
        slack = int(len(words) * REANCHOR_LENGTH) + 2
        anchors = sorted({w for w in words if w in index}, key=lambda w: (len(index[w]), w))
        votes: Counter = Counter()
        for word in anchors[:_ANCHORS]:
            at = [i for i, w in enumerate(words) if w == word]
            for position in index[word]:
                for i in at:
                    votes[position - i] += 1
        offsets = sorted(votes)
        total = [0]
        for o in offsets:
            total.append(total[-1] + votes[o])
        support = {o: total[bisect_right(offsets, o + slack)]
                   - total[bisect_left(offsets, o - slack)] for o in offsets}
        regions: list[int] = []
        for o in sorted(offsets, key=lambda o: (-support[o], o)):
            if len(regions) == _CANDIDATES:
                break
            if all(abs(o - r) > slack for r in regions):
                regions.append(o)
        low, high = (1 - REANCHOR_LENGTH) * len(passage), (1 + REANCHOR_LENGTH) * len(passage)
        best, tried = None, set()
        for region in regions:
            a, b = max(0, region - slack), min(len(tokens), region + len(words) + slack)
            blocks = [m for m in SequenceMatcher(None, words, tokens[a:b], autojunk=False)
                      .get_matching_blocks() if m.size]
            for i in range(min(_EDGE_BLOCKS, len(blocks))):
                for j in range(max(i, len(blocks) - _EDGE_BLOCKS), len(blocks)):
                    span = self._widen((starts[a + blocks[i].b],
                                        ends[a + blocks[j].b + blocks[j].size - 1]), passage)
                    if span in tried or not low <= span[1] - span[0] <= high:
                        continue
                    tried.add(span)
                    ratio = SequenceMatcher(None, passage, self.text[span[0]:span[1]],
                                            autojunk=False).ratio()
                    key = (-ratio, abs(span[0] - near), span[0], span[1])
                    if ratio >= REANCHOR_SIMILARITY and (best is None or key < best[0]):
                        best = (key, span, ratio)
        return None if best is None else (*best[1], best[2])

    def _tokens(self):
        if self._words is None:
            found = list(_WORD.finditer(self.text))
            index: dict[str, list[int]] = {}
            for i, m in enumerate(found):
                index.setdefault(m.group().casefold(), []).append(i)
            self._words = ([m.group().casefold() for m in found], [m.start() for m in found],
                           [m.end() for m in found], index)
        return self._words

    def _widen(self, span: tuple[int, int], passage: str) -> tuple[int, int]:
        """Take in the punctuation the passage starts or ends with ("(laughs)", a full stop)."""
        start, end = span
        lead = len(passage) - len(passage.lstrip(_PUNCT + " \t\n"))
        trail = len(passage) - len(passage.rstrip(_PUNCT + " \t\n"))
        while lead and start > 0 and self.text[start - 1] in _PUNCT:
            start, lead = start - 1, lead - 1
        while trail and end < len(self.text) and self.text[end] in _PUNCT:
            end, trail = end + 1, trail - 1
        return start, end

    def _find(self, needle: str) -> tuple[int, int] | None:
        at = self.norm.find(needle, self._norm_pos(self.last))
        if at < 0:
            at = self.norm.find(needle)
        if at < 0:
            return None
        start, end = self.where[at], self.where[at + len(needle) - 1] + 1
        self.last = start
        return start, end

    def _norm_pos(self, offset: int) -> int:
        import bisect
        return bisect.bisect_left(self.where, offset)


def segments_for_span(segments: list, start: int, end: int) -> list:
    """The respondent segments a passage [start, end) codes (see the module docstring)."""
    overlaps = []
    for seg in segments:
        o = min(end, seg["end"]) - max(start, seg["start"])
        if o > 0:
            overlaps.append((o, seg))
    chosen = [seg for o, seg in overlaps
              if o >= MIN_SHARE * (seg["end"] - seg["start"]) or o >= MIN_SHARE * (end - start)]
    if not chosen and overlaps:
        chosen = [max(overlaps, key=lambda p: p[0])[1]]
    return chosen


def note_reanchoring(source: str, old_text: str, similarity: float) -> str:
    """A coding's evidence (or a rejection's source) once a re-ingest re-anchored it to edited
    text: the text it held before is added under ``reanchored``, so the passage the researcher
    coded is never lost."""
    data = json.loads(source or "{}")
    data.setdefault("reanchored", []).append({"from": old_text,
                                              "similarity": round(similarity, 4)})
    return json.dumps(data, ensure_ascii=False)


def load_interviews(store) -> dict[str, InterviewText]:
    segs: dict[str, list] = {}
    for seg in store.respondent_segments():
        segs.setdefault(seg["interview_id"], []).append(seg)
    return {r["id"]: InterviewText(r["id"], r["text"], segs.get(r["id"], []))
            for r in store.interviews()}


def interview_lookup(store) -> dict[str, str]:
    """Names by which a file may refer to an interview (id, file name, file stem), lower-cased."""
    names: dict[str, str] = {}
    for r in store.interviews():
        file = Path(r["file"])
        for name in (file.as_posix(), file.name, file.stem, r["id"]):
            names[name.lower()] = r["id"]
    return names


def resolve_interview(value: str, names: dict[str, str]) -> str | None:
    value = value.strip().replace("\\", "/")
    for key in (value, Path(value).name, Path(value).stem):
        if key.lower() in names:
            return names[key.lower()]
    return None


def code_lookup(codebook) -> dict[str, str]:
    """Code ids by id, and by name, lower-cased with runs of spaces collapsed."""
    out = {}
    for code in codebook.codes.values():
        out[" ".join(code.name.lower().split())] = code.id
    for code in codebook.codes.values():
        out[code.id.lower()] = code.id
    return out


def resolve_code(value: str, codes: dict[str, str]) -> str:
    return codes.get(" ".join(value.lower().split()), value.strip())


# -- import ----------------------------------------------------------------------------------
def _offsets(row, cols) -> tuple[int, int] | None:
    try:
        return int(float(row[cols["start"]])), int(float(row[cols["end"]]))
    except (KeyError, ValueError, IndexError):
        return None


def _cell(row: list[str], cols: dict, role: str) -> str:
    i = cols.get(role)
    return row[i].strip() if i is not None and i < len(row) else ""


def anchor(interview: InterviewText, text: str, offsets: tuple[int, int] | None
           ) -> tuple[tuple[int, int] | None, str]:
    """The passage's span, or None and the reason it cannot be found."""
    if offsets is not None:
        start, end = offsets
        if 0 <= start < end <= len(interview.text):
            if not text or normalise(interview.text[start:end])[0] == normalise(text)[0]:
                return (start, end), ""
        elif not text:
            return None, (f"offsets {start}-{end} are outside the interview's text "
                          f"(0-{len(interview.text)})")
    if not text:
        return None, "no passage text and no start/end offsets"
    span = interview.find(text)
    if span is None:
        return None, "passage text not found in the interview"
    return span, ""


def import_codes(project, path, coder: str | None = None, columns: dict | None = None
                 ) -> ImportResult:
    """Import human codings from a CSV or XLSX file into the project store.

    Args:
        project: the :class:`~qualcx.project.Project`.
        path: the file.
        coder: the coder's name for rows without a coder column value.
        columns: explicit column names per role (interview, code, coder, text, start, end).

    Returns:
        An :class:`ImportResult`; rows that cannot be anchored are listed, never dropped silently.

    Raises:
        HumanCodesError: the file cannot be read or its columns cannot be told apart.
        ProjectError: no interview is ingested yet (passages are anchored to segments).
    """
    from .pipeline import recorded, require_segments
    from .project import now_iso
    require_segments(project, "before importing codes")
    path = Path(path)
    rows = read_table(path)
    if not any(any(c for c in r) for r in rows):
        raise HumanCodesError(path, "the file is empty; it needs a header row and one row per "
                              "coded passage")
    cols = find_columns(rows[0], path, columns)
    if "coder" not in cols and not coder:
        raise HumanCodesError(path, "no coder column; give the coder's name with --coder NAME", 1)
    machine = project.settings["coder_name"]
    store = project.store
    texts = load_interviews(store)
    names = interview_lookup(store)
    codes = code_lookup(project.codebook)
    unanchored: list[tuple[int, str, str, str]] = []
    unknown: Counter = Counter()
    new_rows: dict[tuple, tuple] = {}
    passages = 0
    for n, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        interview_name, raw_code = _cell(row, cols, "interview"), _cell(row, cols, "code")
        who = _cell(row, cols, "coder") or (coder or "")
        reason = ""
        if not raw_code:
            reason = "no code"
        elif not interview_name:
            reason = "no interview"
        elif not who:
            reason = "no coder; give --coder NAME"
        elif who == machine:
            reason = f"coder '{who}' is the machine coder's name (coder_name); use another name"
        interview_id = resolve_interview(interview_name, names) if not reason else None
        if not reason and interview_id is None:
            reason = f"no ingested interview '{interview_name}'"
        span = None
        if not reason:
            span, reason = anchor(texts[interview_id], _cell(row, cols, "text"),
                                  _offsets(row, cols))
        targets = segments_for_span(texts[interview_id].segments, *span) if span else []
        if span and not targets:
            reason = "passage lies in interviewer talk; only respondent segments are coded"
        if reason:
            unanchored.append((n, interview_name, raw_code, reason))
            continue
        passages += 1
        code = resolve_code(raw_code, codes)
        if code not in project.codebook.codes:
            unknown[code] += 1
        evidence = json.dumps({"source": path.name, "row": n, "passage": list(span)})
        for seg in targets:
            a, b = max(span[0], seg["start"]), min(span[1], seg["end"])
            key = (seg["id"], code, who)
            new_rows.setdefault(key, (seg["id"], interview_id, a, b, texts[interview_id].text[a:b],
                                      code, who, evidence))
    created = now_iso()
    per_coder: Counter = Counter()
    already = 0
    summary: dict = {}
    # recorded so that 'qualcx report' can say the machine codes have not learned from these yet
    with recorded(project, "import-codes", summary), store.transaction() as db:
        for key, values in new_rows.items():
            found = db.execute("SELECT id, evidence FROM codings WHERE segment_id = ? AND code = ? "
                               "AND coder = ? AND is_machine = 0", key).fetchone()
            if found:
                already += 1
                if json.loads(found["evidence"] or "{}").get("review") == "accept":
                    # the coder's own coding of a code they had accepted from the machine: it
                    # is independent now, and counts in agreement
                    db.execute("UPDATE codings SET evidence = ? WHERE id = ?",
                               (values[-1], found["id"]))
                continue
            db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                       "coder, is_machine, score, evidence, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?)", (*values, created))
            per_coder[key[2]] += 1
        summary.update(file=path.name, imported=sum(per_coder.values()), already=already,
                       unanchored=len(unanchored))
    return ImportResult(str(path), sum(per_coder.values()), passages, already, dict(per_coder),
                        unanchored, dict(unknown), {v[1] for v in new_rows.values()})


def write_unanchored(result: ImportResult, path) -> Path:
    """Write the rows that could not be anchored as CSV: row, interview, code, reason."""
    path = Path(path)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["row", "interview", "code", "reason"])
    writer.writerows(result.unanchored)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def human_coders(store) -> list[str]:
    """Names of coders with human codings or rejections, sorted."""
    names = {r[0] for r in store.db.execute(
        "SELECT DISTINCT coder FROM codings WHERE is_machine = 0")}
    names |= {r[0] for r in store.db.execute("SELECT DISTINCT coder FROM rejections")}
    return sorted(names)


