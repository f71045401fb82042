"""Speaker turns from labelled transcript text.

Label shapes recognised at the start of a line: ``Name: text``, ``NAME: text``, ``Q:``/``A:``,
``[00:01:02] Speaker: text``, ``00:01:02 Speaker: text``, a name containing one colon when it
labels several lines (``Team A: Lead: text``), Otter's ``Speaker 1 (00:01:02)`` and Zoom's
``00:01:02 Speaker Name`` on a line of their own with the text below, and numbered guide items
(``1.a Was the information enough?``) in transcripts that follow an interview guide.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .readers.base import parse_time, skipped_warning

TS = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
NAME = r"\[[A-Z]+ \d+\]|[^\W\d_][\w .'’()\-]{0,38}?"
LABEL_RE = re.compile(
    rf"^[ \t]*(?:\[(?P<ts>{TS})\][ \t]*|(?P<ts2>{TS})[ \t]+)?"
    rf"(?P<label>{NAME})[ \t]*:[ \t]+(?=\S)", re.UNICODE)
COLON_LABEL_RE = re.compile(
    rf"^[ \t]*(?:\[(?P<ts>{TS})\][ \t]*|(?P<ts2>{TS})[ \t]+)?"
    r"(?P<label>[^\W\d_][\w .'’()\-]{0,30}:[ ]?[\w.'’()\-][\w .'’()\-]{0,30}?)[ \t]*:[ \t]+(?=\S)",
    re.UNICODE)
# A label on a line of its own, the text on the lines below.
OTTER_RE = re.compile(rf"^[ \t]*(?P<label>{NAME})[ \t]+\(?(?P<ts>{TS})\)?[ \t]*:?[ \t]*$")
ZOOM_RE = re.compile(rf"^[ \t]*(?P<ts>{TS})[ \t]+(?P<label>{NAME})[ \t]*:?[ \t]*$|"
                     rf"^[ \t]*\[(?P<label2>[^\]]{{1,40}})\][ \t]+(?P<ts2>{TS})[ \t]*$")
OUTLINE_RE = re.compile(
    r"^[ \t]*(?P<m>\d{1,2}(?:\.(?:\d{1,2}|[a-z]{1,4}))*\.?|[a-z]{1,4}\.(?:(?:\d{1,2}|[a-z]{1,4})"
    r"\.?)*)[ \t]+(?=\S)")
NOT_OUTLINE = {"e.g.", "i.e.", "etc.", "vs.", "ok.", "so.", "no.", "yes."}
ROLE_WORDS = {"interviewer", "respondent", "participant", "interviewee", "moderator",
              "facilitator", "speaker", "unknown", "researcher", "q", "a", "i", "r", "p"}
PARTICLES = {"van", "von", "der", "den", "de", "da", "di", "du", "la", "le", "del", "bin",
             "al", "dos", "das", "ter", "ten", "y"}
RESPONDENT = "Respondent"


@dataclass(frozen=True)
class _Label:
    line: int  # index of the line
    line_start: int
    content_start: int
    label: str
    time: float | None
    kind: str  # "inline", "header" (text on the next lines) or "outline" (a guide item)


def _name_like(label: str, known: set[str]) -> bool:
    """Speaker labels are names or roles: capitalised words, not the start of a sentence."""
    low = label.lower()
    if low in known or low.rstrip("0123456789 ") in ROLE_WORDS:
        return True
    return all(w[:1].isupper() or w[:1].isdigit() or w[:1] in "([" or w.lower() in PARTICLES
               for w in label.replace("-", " ").split())


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def _candidates(lines: list[tuple[int, str]]) -> list[_Label]:
    colon_counts = Counter()
    for _, line in lines:
        m = COLON_LABEL_RE.match(line)
        if m:
            colon_counts[m.group("label").strip().lower()] += 1
    found = []
    for i, (pos, line) in enumerate(lines):
        m = COLON_LABEL_RE.match(line)
        if not (m and colon_counts[m.group("label").strip().lower()] >= 2):
            m = LABEL_RE.match(line)
        if m:
            ts = m.group("ts") or m.group("ts2")
            found.append(_Label(i, pos, pos + m.end(), m.group("label").strip(),
                                parse_time(ts) if ts else None, "inline"))
            continue
        nxt = lines[i + 1][1] if i + 1 < len(lines) else ""
        m = OTTER_RE.match(line) or ZOOM_RE.match(line)
        if m and nxt.strip() and not OTTER_RE.match(nxt) and not ZOOM_RE.match(nxt):
            groups = m.groupdict()
            label = (groups.get("label") or groups.get("label2") or "").strip()
            ts = groups.get("ts") or groups.get("ts2")
            found.append(_Label(i, pos, pos + len(line) + 1, label, parse_time(ts), "header"))
    return found


def _outline(lines: list[tuple[int, str]], taken: set[int]) -> list[_Label]:
    """Numbered guide items (``1``, ``1.a``, ``c.ii``), when a transcript has at least three.

    Plain numbers must count up (1, 2, 3 …) so that talk starting with a number stays talk.
    """
    items = []
    top = 0
    for i, (pos, line) in enumerate(lines):
        m = OUTLINE_RE.match(line)
        if not m or i in taken or m.group("m").lower() in NOT_OUTLINE:
            continue
        marker = m.group("m").rstrip(".")
        if marker.isdigit():
            if int(marker) != top + 1:
                continue
            top = int(marker)
        elif "." not in m.group("m"):
            continue
        start = pos + len(line) - len(line.lstrip())
        items.append(_Label(i, pos, start, "", None, "outline"))
    return items if len(items) >= 3 else []


def find_labels(text: str, interviewer_labels: list[str]) -> list[_Label]:
    """The lines that open a turn, in order.

    A label counts as a speaker when it opens at least two lines or is a known interviewer
    label, and looks like a name or role; a label seen once still opens a turn when it starts
    a paragraph or answers the interviewer's line right above it.
    """
    known = {x.lower() for x in interviewer_labels}
    lines = _lines(text)
    candidates = [c for c in _candidates(lines) if c.kind == "header"
                  or _name_like(c.label, known)]
    counts = Counter(c.label.lower() for c in candidates)
    strong = {lab for lab, n in counts.items() if n >= 2 or lab in known}
    asks = {c.line for c in candidates if c.label.lower() in known}
    first_content = len(text) - len(text.lstrip())

    def opens_turn(c: _Label) -> bool:
        if c.kind == "header" or c.label.lower() in strong:
            return True
        return len(c.label.split()) <= 4 and (c.line_start <= first_content
                                              or text.startswith("\n\n", c.line_start - 2)
                                              or c.line - 1 in asks)
    labels = [c for c in candidates if opens_turn(c)]
    labels += _outline(lines, {c.line for c in labels})
    return sorted(labels, key=lambda c: c.line)


def split_turns(text: str, interviewer_labels: list[str], path: Path
                ) -> tuple[list[tuple[str, str | None, int, int, float | None]], list[str]]:
    """Turns as (speaker, forced role or None, start, end, time) plus warnings."""
    known = {x.lower() for x in interviewer_labels}
    labels = find_labels(text, interviewer_labels)
    warnings: list[str] = []
    if not labels:
        stripped = text.strip()
        start = text.index(stripped[:1]) if stripped else 0
        warnings.append(f"{path.name}: no speaker labels found; read as one respondent's "
                        "monologue (label turns as 'Name: text' to separate speakers)")
        return [(RESPONDENT, "respondent", start, start + len(stripped), None)], warnings
    named = [c.label for c in labels if c.kind != "outline"]
    asker = next((n for n in named if n.lower() in known), "Interviewer")
    # Only the interviewer is labelled (or the guide items are): the unlabelled talk is the
    # respondent's.
    sparse = all(n.lower() in known for n in named)
    by_line = {c.line: c for c in labels}
    turns: list[list] = []  # speaker, role, start, end, time, open
    last_respondent = RESPONDENT
    skipped_head: list[str] = []
    for i, (pos, line) in enumerate(_lines(text)):
        label = by_line.get(i)
        if label is not None:
            if label.kind == "outline":
                end = pos + len(line.rstrip())
                turns.append([asker, "interviewer", label.content_start, end, None, False])
                continue
            inline = label.kind == "inline"
            end = pos + len(line.rstrip()) if inline else label.content_start
            turns.append([label.label, None, label.content_start, end, label.time,
                          not (inline and sparse)])
            if label.label.lower() not in known:
                last_respondent = label.label
            continue
        if not line.strip():
            continue
        start, end = pos + len(line) - len(line.lstrip()), pos + len(line.rstrip())
        if turns and turns[-1][5]:
            if turns[-1][3] <= turns[-1][2]:
                turns[-1][2] = start  # a header label's text starts on this line
            turns[-1][3] = end
        elif turns or sparse:
            turns.append([RESPONDENT if sparse else last_respondent,
                          "respondent" if sparse else None, start, end, None, True])
        else:
            skipped_head.append(line)
    if skipped_head:
        warnings.append(skipped_warning(path, "text before the first speaker label",
                                        skipped_head))
    out = [(s, role, a, b, t) for s, role, a, b, t, _ in turns if b > a]
    return out, warnings


def assign_roles(turns: list[tuple[str, str | None, str]], interviewer_labels: list[str]
                 ) -> dict[str, str]:
    """Each speaker's role: configured interviewer labels, else the one who mostly asks.

    ``turns`` holds (speaker, forced role or None, text).
    """
    known = {x.lower() for x in interviewer_labels}
    speakers = list(dict.fromkeys(s for s, _, _ in turns))
    forced = {s: r for s, r, _ in turns if r}
    roles = {s: forced.get(s) or ("interviewer" if s.lower() in known else "respondent")
             for s in speakers}
    if "interviewer" in roles.values() or len(speakers) < 2:
        return roles
    share = {}
    for speaker in speakers:
        own = [body for s, _, body in turns if s == speaker]
        share[speaker] = sum(body.rstrip().endswith("?") for body in own) / len(own)
    best = max((s for s in speakers if s not in forced),
               key=lambda s: (share[s], -speakers.index(s)), default=None)
    if best is not None and share[best] >= 0.3:
        roles[best] = "interviewer"
    return roles
