"""The researcher's names for themes, kept apart from the themes and re-applied to every run.

A name is a human decision: no machine run deletes or overwrites it. Each name keeps the
member segment ids of the theme it names. Every themes run gives a new theme the name whose
members overlap its own by a Jaccard index of at least ``MIN_OVERLAP``, under the same parent
code; one name per theme and one theme per name, best overlap first, ties to the theme listed
first. A name that matches no theme stays stored with the members it had, and is reported, so
the researcher can name the theme that fits or remove the name.

Matching is by segment id. Re-ingesting an interview gives its segments new ids, so a name
over much of that interview's talk may stop matching (and is then reported), rather than be
moved by a guess.
"""

from __future__ import annotations

import json
import shlex
import sqlite3
from dataclasses import dataclass

from .errors import ProjectError

MIN_OVERLAP = 0.5


@dataclass(frozen=True)
class Unmatched:
    """A stored name that no current theme takes."""

    label: str
    parent_code: str | None
    segments: int

    def message(self) -> str:
        return (f"no theme now matches your name '{self.label}' "
                f"({self.parent_code or 'emergent'}; it held {self.segments} segments): rename "
                "the theme that fits, or remove the name with --rename "
                f"{shlex.quote(self.label)} ''")


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def match_names(names: list[tuple[int, str | None, set[int]]],
                themes: list[tuple[str | None, set[int]]]) -> dict[int, int]:
    """Theme index -> name id, for names ``(id, parent code, members)`` and themes
    ``(parent code, members)`` in their listed order; see the module's rule."""
    pairs = []
    for name_id, parent, members in names:
        for index, (theme_parent, theme_members) in enumerate(themes):
            if theme_parent == parent:
                overlap = jaccard(members, theme_members)
                if overlap >= MIN_OVERLAP:
                    pairs.append((-overlap, index, name_id))
    taken: dict[int, int] = {}
    for _, index, name_id in sorted(pairs):
        if index not in taken and name_id not in taken.values():
            taken[index] = name_id
    return taken


def _stored_themes(db: sqlite3.Connection) -> list[tuple[sqlite3.Row, set[int]]]:
    return [(row, {r[0] for r in db.execute(
        "SELECT segment_id FROM theme_segments WHERE theme_id = ?", (row["id"],))})
        for row in db.execute("SELECT * FROM themes ORDER BY ordinal").fetchall()]


def apply_names(db: sqlite3.Connection) -> list[Unmatched]:
    """Give the stored themes (as a themes run just wrote them, machine labels only) the names
    that match them; a matched name follows its theme's members from then on. Call inside the
    transaction that wrote the themes. Returns the names no theme matches."""
    themes = _stored_themes(db)
    names = db.execute("SELECT * FROM theme_names ORDER BY id").fetchall()
    taken = match_names([(n["id"], n["parent_code"], set(json.loads(n["members"])))
                         for n in names], [(row["parent_code"], members) for row, members in themes])
    by_id = {n["id"]: n for n in names}
    for index, name_id in taken.items():
        row, members = themes[index]
        db.execute("UPDATE themes SET label = ?, name_id = ? WHERE id = ?",
                   (by_id[name_id]["label"], name_id, row["id"]))
        db.execute("UPDATE theme_names SET members = ?, theme_key = ? WHERE id = ?",
                   (json.dumps(sorted(members)), row["key"], name_id))
    return unmatched(db)


def unmatched(db: sqlite3.Connection) -> list[Unmatched]:
    """The stored names that name no current theme, oldest first."""
    return [Unmatched(n["label"], n["parent_code"], len(json.loads(n["members"])))
            for n in db.execute("SELECT * FROM theme_names WHERE id NOT IN "
                                "(SELECT name_id FROM themes WHERE name_id IS NOT NULL) "
                                "ORDER BY id")]


def rename(project, renames: list[tuple[str, str]], now: str) -> list[str]:
    """Name stored themes (``(key, label)``; an empty label removes the name), in one
    transaction, without finding the themes again. Returns one line per rename saying what
    was done.

    A name given to a theme replaces an unmatched name of the same label and parent code (the
    researcher naming the theme that fits). An empty label with a key removes that theme's
    name; with the label of an unmatched name instead of a key, it removes that name.

    Raises:
        ProjectError: a key names no stored theme (nothing is changed).
    """
    store = project.store
    done = []
    with store.transaction() as db:
        themes = {row["key"]: (row, members) for row, members in _stored_themes(db)}
        loose = {u.label for u in unmatched(db)}
        for key, _ in renames:
            if key not in themes and key not in loose:
                listed = ", ".join(themes) or "none (run 'qualcx themes' first)"
                raise ProjectError(f"{store.path}: no theme '{key}'; themes: {listed}")
        for key, label in renames:
            label = " ".join(label.split())
            if key not in themes:  # the label of an unmatched name, to remove
                if label:
                    raise ProjectError(f"{store.path}: no theme '{key}'; '{key}' is a name that "
                                       "matches no theme: give it to a theme with --rename "
                                       f"KEY {shlex.quote(key)}, or remove it with --rename "
                                       f"{shlex.quote(key)} ''")
                db.execute("DELETE FROM theme_names WHERE label = ? AND id NOT IN (SELECT "
                           "name_id FROM themes WHERE name_id IS NOT NULL)", (key,))
                done.append(f"removed your name '{key}' (it matched no theme)")
                continue
            row, members = themes[key]
            if row["name_id"] is not None:
                db.execute("DELETE FROM theme_names WHERE id = ?", (row["name_id"],))
            if not label:
                db.execute("UPDATE themes SET label = machine_label, name_id = NULL WHERE id = ?",
                           (row["id"],))
                done.append(f"{key}: name '{row['label']}' removed; label back to "
                            f"'{row['machine_label']}'" if row["name_id"] is not None
                            else f"{key}: has no name of yours; label stays "
                                 f"'{row['machine_label']}'")
            else:
                db.execute("DELETE FROM theme_names WHERE label = ? AND parent_code IS ? AND id "
                           "NOT IN (SELECT name_id FROM themes WHERE name_id IS NOT NULL)",
                           (label, row["parent_code"]))
                cur = db.execute("INSERT INTO theme_names (label, parent_code, members, "
                                 "machine_label, theme_key, named_at) VALUES (?, ?, ?, ?, ?, ?)",
                                 (label, row["parent_code"], json.dumps(sorted(members)),
                                  row["machine_label"], key, now))
                db.execute("UPDATE themes SET label = ?, name_id = ? WHERE id = ?",
                           (label, cur.lastrowid, row["id"]))
                done.append(f"{key}: named '{label}' (machine label: '{row['machine_label']}')")
            row = db.execute("SELECT * FROM themes WHERE id = ?", (row["id"],)).fetchone()
            themes[key] = (row, members)
    return done
