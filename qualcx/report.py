"""The thematic-analysis report (Kvale's stage 7) in HTML and Markdown."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from itertools import permutations
from pathlib import Path

import jinja2

from . import __version__
from .analysis import (MAX_GROUPS, clean, code_interview_matrix, code_quotes, compare,
                       cooccurrence, default_compare_attribute, load_corpus, prose_list,
                       saturation, theme_interview_matrix, theme_quotes, top_pairs)
from .errors import SettingsError
from .settings import _toml_value
from .charts import bar_chart, heat_colour, saturation_chart

TEMPLATE_DIR = Path(__file__).parent / "templates"


def environment(project_templates: Path | None = None) -> jinja2.Environment:
    """Jinja environment: a project's own ``templates/`` folder overrides the package's."""
    loaders = [jinja2.FileSystemLoader(str(project_templates))] if project_templates and \
        project_templates.is_dir() else []
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATE_DIR)))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders),
                             autoescape=lambda name: not (name or "").endswith(".md.j2"),
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = _md_escape
    env.filters["heat"] = _heat
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    env.filters["toml"] = _toml_value
    return env


def _md_escape(text: str) -> str:
    """Make transcript text inert in Markdown: no HTML tags, emphasis, code or table pipes."""
    text = clean(str(text))
    for char, entity in (("\\", "\\\\"), ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"),
                         ("|", "\\|"), ("*", "\\*"), ("_", "\\_"), ("`", "\\`")):
        text = text.replace(char, entity)
    return text


def _heat(count: int, top: int) -> str:
    return heat_colour(count, top)


def _num(value, digits: int = 2) -> str:
    """A figure for a table: fixed decimals, "n/a" when undefined (as ``qualcx agree`` says)."""
    if value is None or value == "":
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def build_context(project, agreement: dict | None = None) -> dict:
    """Everything the templates show, computed from the store.

    Args:
        project: the :class:`~qualcx.project.Project`.
        agreement: inter-coder agreement as returned by ``qualcx.agree.agreement_summary``
            (None when there are no human codes); shown in the method section.
    """
    from .project import now_iso
    codebook = project.codebook
    settings = project.settings
    corpus = load_corpus(project.store)
    run = _last_run(project.store, settings)
    redacted = bool(settings.get("redact", False)) or _redacted(project.store)
    if redacted:
        run["settings"]["redact"] = True  # the store stays pseudonymised once it was
    n_quotes = int(settings["quotes_per_code"])
    total = len(corpus.interviews)
    sections = []
    quoted: set[int] = set()  # a segment quoted once is not quoted again when others can be
    done: dict[str, dict] = {}  # a code linked to two questions shows the same section twice
    for rq in codebook.research_questions:
        for code_id in rq.codes:
            if code_id not in done:
                done[code_id] = _code_section(corpus, codebook, code_id, n_quotes, total, quoted)
        codes = [done[code_id] for code_id in rq.codes]
        bars = []
        for c in codes:
            bars.append((c["code"].name, c["interviewees"], c["code"].color))
            bars += [(f"· {ch['code'].name}", ch["interviewees"], c["code"].color)
                     for ch in c["children"]]
        chart = bar_chart(bars, total, f"{rq.id}: interviewees raising each code and sub-code",
                          "; ".join(f"{label.lstrip('· ')}: {n} of {total}"
                                    for label, n, _ in bars), ident=f"bars-{rq.id}")
        sections.append({"rq": rq, "codes": codes, "chart": chart})
    emergent = [_theme_view(corpus, t, 3, codebook, quoted) for t in corpus.themes
                if t["parent_code"] is None]
    matrix = code_interview_matrix(corpus, codebook)
    top = max((c for row in matrix for c in row["counts"].values()), default=0)
    theme_matrix = theme_interview_matrix(corpus)
    top_level = [c.id for c in codebook.top_level]
    co_rows = cooccurrence(corpus, codebook)
    attribute = _compare_attribute(project, corpus)
    sat = saturation(corpus, codebook, int(settings.get("saturation_window", 2)),
                     attribute=attribute)
    quoted = _quoted_segments(sections, emergent)
    coded_segments = sum(1 for s in corpus.segments if corpus.codes_by_segment.get(s))
    talk = small_talk(project.store)
    return {"title": settings["report_title"] or codebook.name, "version": __version__,
            "date": now_iso()[:10], "project": project.root.name, "codebook": codebook,
            "settings": settings, "run": run, "interviews": corpus.interviews, "total": total,
            "segments": len(corpus.segments),
            "coded_segments": coded_segments,
            "coverage": coverage_sentence(project.store, corpus, coded_segments),
            "ingest_warnings": ingest_warnings(project),
            "coders": corpus.coders, "sections": sections, "emergent": emergent,
            "small_talk": talk,
            "small_talk_note": " ".join(t for t in (small_talk_sentence(talk),
                                                   uncoded_sentence(corpus, talk)) if t),
            "stale": stale_notice(project.store, bool(settings["learn_from_humans"])),
            "matrix": matrix, "matrix_top": top, "theme_matrix": theme_matrix,
            "theme_matrix_top": max((c for r in theme_matrix for c in r["counts"].values()),
                                    default=0),
            "cooccurrence": [r for r in co_rows if r["code"].id in top_level],
            "cooccurrence_ids": top_level,
            "cooccurrence_top": max((r["counts"][b] for r in co_rows for b in top_level
                                     if r["code"].id != b and r["code"].id in top_level),
                                    default=0),
            "pairs": top_pairs(co_rows, codebook),
            "comparison": compare(corpus, codebook, attribute),
            "compare_note": "" if settings.get("compare_by") or attribute is None else (
                f"The groups are by {attribute}, the first metadata column (ids, file names, "
                f"roles, names, dates and lengths aside) that splits the interviews into 2 to "
                f"{MAX_GROUPS} groups, fewer than there are interviews; the setting compare_by "
                "chooses another."),
            "saturation": sat, "saturation_chart": saturation_chart(sat["steps"]),
            "agreement": _agreement_view(agreement),
            "redacted": redacted, "themes_found": len(corpus.themes),
            "themes_method": themes_method(run["settings"], len(corpus.themes), len(emergent)),
            "theme_matrix_note": theme_matrix_note(corpus),
            "theme_counts_note": THEME_COUNTS if corpus.themes else "",
            "further_quotes_note": FURTHER_QUOTES,
            "transcripts": _transcripts(project.store, corpus, quoted), "quoted": quoted,
            "meta_columns": _meta_columns(corpus.interviews)}


THEME_COUNTS = ("A theme's counts are those of its own segments: the interviewees with a "
                "segment in it and how many segments it holds, as qualcx export --table themes "
                "gives them. A sub-theme named after a sub-code also holds segments the sub-code "
                "does not code, so its counts differ from the sub-code's. A keyword's count "
                "is of the theme's segments using it; “+ n asked” adds those that do not but "
                "answer an interviewer's follow-up question naming it; “n with ‘w’” counts "
                "the segments that say the keyword or the word w, themselves or in the follow-up "
                "they answer, when the keyword took the word's place among the keywords "
                "(“February outage” for “outage”). Labels count all of these.")
FURTHER_QUOTES = ("The code's most strongly coded segments (a person's code counts as "
                  "certain), one per interviewee first, among those not quoted above.")
THEMES_ONLY = ("min_theme_segments",)
REPORT_ONLY = ("report_title", "quotes_per_code", "compare_by", "saturation_window")
AGREEMENT_FIGURES = ("kappa", "alpha", "percent", "precision", "recall", "f1", "both", "only_a",
                     "only_b", "neither", "n")


def _redacted(store) -> bool:
    """Whether an ingest pseudonymised the transcripts (it stays on for the project)."""
    return store.meta_value("redacted") == "1"


def _compare_attribute(project, corpus) -> str | None:
    """The ``compare_by`` setting, checked against the metadata, or the default column."""
    wanted = project.settings.get("compare_by")
    if not wanted:
        return default_compare_attribute(corpus.interviews)
    columns = sorted({k for i in corpus.interviews for k in i["meta"]})
    if wanted not in columns:
        raise SettingsError(f"{project.root / 'qualcx.toml'}: compare_by names '{wanted}', which "
                            f"is not a column of interviews/metadata.csv; use one of: "
                            f"{', '.join(columns) or '(no metadata columns)'}")
    return wanted


def coverage_sentence(store, corpus, coded: int) -> str:
    """How many segments carry a code, and whose codes those are.

    ``qualcx code`` counts only the machine's codes; the report pools every coder's, so when
    a person coded too it says so and gives the machine's own figure to match the command's.
    """
    total = len(corpus.segments)
    share = f" ({100 * coded / total:.0f}%)" if total else ""
    text = f"{coded} of {total} segments{share} received at least one code"
    machine, human = set(), False
    for row in store.codings(corpus.segments):
        if row["is_machine"]:
            machine.add(row["segment_id"])
        else:
            human = True
    if not human:
        return text + "."
    return (f"{text}, counting every coder's codes, human and machine ({len(machine)} received "
            "a machine code).")


def ingest_warnings(project) -> list[str]:
    """What ingest warned about the stored interviews, for the Interviewees section.

    Each warning already names its file; the project's ``interviews/`` folder is left out of
    the paths, so a shared report does not show where the project sits on a disk. Files that
    failed to ingest are not in the store and not listed.
    """
    folder = f"{project.interviews_dir}{os.sep}"
    return [w.replace(folder, "") for row in project.store.interviews()
            for w in json.loads(row["warnings"] or "[]")]


def small_talk(store) -> dict | None:
    """What the last themes run set aside as small talk, and the rule it used.

    Returns ``{"themes": n, "segments": n, "rule": text}``, or None when no finished themes
    run recorded it.
    """
    from .themes import EDGE_MIN_SEGMENTS, EDGE_SHARE, OPENING_SHARE, SMALL_TALK_SHARE
    row = store.db.execute("SELECT summary FROM runs WHERE command = 'themes' AND finished_at "
                           "IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()
    summary = json.loads(row["summary"] or "{}") if row is not None else {}
    if "small_talk_segments" not in summary:
        return None
    rule = (f"an emergent theme with at least {SMALL_TALK_SHARE:.0%} of its segments in the "
            f"first {OPENING_SHARE:.0%} or last {EDGE_SHARE:.0%} of their interviews "
            f"(interviews of {EDGE_MIN_SEGMENTS} segments or more) is about the interview "
            "itself or introduces the interviewee, not the research topic; its other segments "
            "belong to no theme, and the emergent themes that stay leave out their segments "
            "there too")
    return {"themes": int(summary.get("small_talk", 0)),
            "segments": int(summary["small_talk_segments"]), "rule": rule}


def small_talk_sentence(info: dict | None) -> str:
    """One sentence for the emergent-themes section on the small talk set aside.

    The rule is stated only when it set something aside; otherwise it explains nothing shown.
    """
    if info is None:
        return ""
    if not info["segments"]:
        return "No uncoded talk was set aside as small talk."
    n, k = info["segments"], info["themes"]
    return (f"{n} uncoded segment{'s' if n != 1 else ''} in {k} cluster{'s' if k != 1 else ''} "
            f"{'were' if n != 1 else 'was'} set aside as small talk (greetings, introductions, "
            f"thanks, consent) and are not shown as themes; the rule: {info['rule']}.")


def themes_method(settings: dict, n_themes: int, n_emergent: int = 0) -> str:
    """The method section's sentence on how themes were found and quotes chosen."""
    n_sub = n_themes - n_emergent
    split = (f" ({n_sub} sub-theme{'s' if n_sub != 1 else ''} and {n_emergent} emergent)"
             if n_emergent and n_sub else "")
    from .quotes import MAX_WORDS
    from .themes import (CHILD_LABEL_SHARE, MIN_THEME_INTERVIEWS, MIN_THEME_SIZE,
                         MIN_THEME_WORDS, OUTLIER_MIN_SIMILARITY)
    found = ("Sub-themes were found within each top-level code (with its sub-codes) holding at "
             f"least {settings['min_theme_segments']} segments of {MIN_THEME_WORDS} words or "
             "more, and emergent themes among such segments that no coder coded, by clustering "
             "the same "
             f"embeddings (BERTopic, seed {settings['seed']}); a cluster raised by fewer than "
             f"{MIN_THEME_INTERVIEWS} interviewees or holding fewer than {MIN_THEME_SIZE} "
             "segments was not kept, and its segments joined the nearest theme when "
             f"their cosine to its centre reached {OUTLIER_MIN_SIMILARITY}: {n_themes} "
             f"theme{'s' if n_themes != 1 else ''}{split}. A theme's label is made of the "
             "noun phrases that most set its segments apart (counting the interviewer's "
             "follow-up questions they answer), and a sub-theme most of whose segments carry "
             "one sub-code is named after it (where a person coded the interviews, only when "
             "they applied that sub-code most too); where two sub-codes each code at least "
             f"{CHILD_LABEL_SHARE:.0%} of its segments, it is named after both (unless a "
             "person coded the interviews and applied one of them most by that test), and one "
             "spread "
             "over several whose own words name less than a third of it, after the two coding "
             "most of it (where a person coded the interviews, the two they applied most). "
             "One named by a single phrase of its talk, which none of its own code's "
             f"sub-codes names, where another code codes at least {CHILD_LABEL_SHARE:.0%} of "
             "its segments, has the sub-code (or two) of that code naming that part of it by "
             "the same tests after its phrase."
             if n_themes else
             f"No themes were found: no code, and not the uncoded rest, had the "
             f"{settings['min_theme_segments']} segments needed before it is clustered "
             "(setting min_theme_segments), or qualcx themes has not been run.")
    return (f"{found} Quotes are the most central segments of a code or theme (of a sub-theme "
            "named after sub-codes, those carrying them first), one per "
            "interviewee before anyone gets a second, each segment once in the report while "
            "others can be quoted, cut to their most central whole "
            f"sentences when longer than {MAX_WORDS} words; \u2026 marks talk of the same turn "
            "left out.")


def theme_matrix_note(corpus) -> str:
    """What the theme × interviewee matrix counts, and how many segments two themes share."""
    seen: dict[int, int] = {}
    for theme in corpus.themes:
        for m, _ in theme["members"]:
            seen[m] = seen.get(m, 0) + 1
    shared = sum(1 for n in seen.values() if n > 1)
    text = "Segments per theme and interview."
    if shared:
        text += (f" A segment coded under two codes can be in a sub-theme of each: {shared} "
                 f"segment{'s are' if shared != 1 else ' is'} in two themes or more, so the "
                 f"themes hold {len(seen)} distinct segments, not the {sum(seen.values())} "
                 "their rows add up to.")
    return text


def uncoded_sentence(corpus, talk: dict | None) -> str:
    """Where the segments no coder coded went, so the emergent themes can be checked: too short
    to cluster, small talk, in an emergent theme, or in none."""
    from .themes import MIN_THEME_WORDS, clusterable
    uncoded = [s for s in corpus.segments if not corpus.codes_by_segment.get(s)]
    if not uncoded:
        return ""
    short = sum(1 for s in uncoded if not clusterable(corpus.segments[s]["text"]))
    emergent = [t for t in corpus.themes if t["parent_code"] is None]
    held = {m for t in emergent for m, _ in t["members"]}
    themed = sum(1 for s in uncoded if s in held)
    aside = talk["segments"] if talk else 0
    rest = len(uncoded) - short - themed - aside
    if rest < 0:  # the codes changed after the themes were found (see the notice above)
        return ""
    parts = [f"{short} {'is' if short == 1 else 'are'} shorter than {MIN_THEME_WORDS} words "
             "and were not clustered"] if short else []
    if aside:
        parts.append(f"{aside} {'was' if aside == 1 else 'were'} set aside as small talk")
    if themed:
        parts.append(f"{themed} {'is' if themed == 1 else 'are'} in the emergent "
                     f"theme{'s' if len(emergent) != 1 else ''} below")
    if rest:
        parts.append(f"{rest} {'fits' if rest == 1 else 'fit'} none of them")
    n = len(uncoded)
    return f"Of the {n} segment{'s' if n != 1 else ''} no coder coded, {prose_list(parts)}."


HUMAN_RUNS = {"import-codes": "human codes were imported",
              "review": "review decisions were read"}


def _finished_runs(store) -> list:
    return store.db.execute("SELECT id, command, summary FROM runs WHERE finished_at IS NOT NULL "
                            "AND command IN ('ingest', 'code', 'themes', 'import-codes', 'review') "
                            "ORDER BY id").fetchall()


def read_anew_since_coding(store, runs: list | None = None) -> list[str]:
    """The interviews an ingest read anew after the last coding run, in interview order.

    Re-reading a changed transcript drops its machine codes, so these have none until the
    next ``qualcx code``: their segments were not coded, rather than coded with nothing.
    Empty when the machine never coded the project (nothing lags then)."""
    runs = _finished_runs(store) if runs is None else runs
    code_run = {r["command"]: r["id"] for r in runs}.get("code")
    read = {i for r in runs if r["command"] == "ingest" and code_run is not None
            and r["id"] > code_run for i in json.loads(r["summary"] or "{}").get("read", [])}
    return [r["interview_id"] for r in store.db.execute(
        "SELECT DISTINCT s.interview_id, i.ordinal FROM segments s "
        "JOIN turns t ON t.id = s.turn_id JOIN interviews i ON i.id = s.interview_id "
        "WHERE t.role = 'respondent' ORDER BY i.ordinal, i.id")
        if r["interview_id"] in read]


def stale_notice(store, learn_from_humans: bool = True, themes: bool = True) -> str:
    """Why the stored results lag behind the transcripts, or "" when they do not.

    Nothing else says so: re-reading a changed transcript drops its machine codes, so until
    the next ``qualcx code`` the counts leave them out; human codes imported or review
    decisions read after the last coding run are not yet learned from (when
    ``learn_from_humans`` is on: the setting now, which the next coding run follows), so the
    machine codes and the agreement with them lag behind; and themes found before the last
    coding run, or before an ingest that changed the interviews, may group codes and
    segments that have changed since (left out with ``themes=False``, for what does not use
    the themes, such as ``qualcx agree``). Read from the finished runs: ingest runs record
    the interviews they read anew, import and review runs how many decisions they added.
    ``qualcx run`` does every step in order, so after it this is always "".
    """
    runs = _finished_runs(store)
    last = {r["command"]: r["id"] for r in runs}
    code_run, themes_run = last.get("code"), last.get("themes")
    ingests = [(r["id"], json.loads(r["summary"] or "{}")) for r in runs
               if r["command"] == "ingest"]
    uncoded = read_anew_since_coding(store, runs)
    human = set()
    if code_run is not None and learn_from_humans:
        human = {HUMAN_RUNS[r["command"]] for r in runs if r["command"] in HUMAN_RUNS
                 and r["id"] > code_run and _new_decisions(json.loads(r["summary"] or "{}"))}
    parts = []
    if uncoded:
        one = len(uncoded) == 1
        parts.append(f"interview{'' if one else 's'} {prose_list(uncoded, shown=3)} "
                     f"{'was' if one else 'were'} read anew after the last coding run and {'has' if one else 'have'} no "
                     f"machine codes yet, so {'its' if one else 'their'} machine codes are "
                     "missing from the counts and quotes")
    if human:
        parts.append(f"{' and '.join(sorted(human))} after the last coding run; the machine "
                     "codes have not learned from them yet")
    if themes and themes_run is not None:
        if code_run is not None and code_run > themes_run:
            parts.append("the themes were found before the last coding run")
        elif any(run_id > themes_run and (summary.get("interviews", 0) > summary.get("skipped", 0)
                                          or summary.get("removed"))
                 for run_id, summary in ingests):
            parts.append("the themes were found before the last ingest changed the interviews")
    if not parts:
        return ""
    steps = ("'qualcx code', 'qualcx themes' and 'qualcx report'" if uncoded or human
             else "'qualcx themes' and 'qualcx report'")
    return f"{'; '.join(parts)}. Run {steps}, or 'qualcx run' for all of them."


def _new_decisions(summary: dict) -> int:
    """How many human codings or rejections an import-codes or review run added."""
    return sum(int(summary.get(k, 0)) for k in ("imported", "accepted", "rejected", "added"))


def _last_run(store, settings: dict) -> dict:
    """Settings and package versions of the last coding run (what the report shows was done)."""
    row = store.db.execute("SELECT * FROM runs WHERE command = 'code' AND finished_at IS NOT NULL "
                           "ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return {"settings": dict(settings), "versions": {}, "recorded": False, "changed": [],
                "summary": {}}
    recorded = json.loads(row["settings"])
    themes_run = store.db.execute("SELECT settings FROM runs WHERE command = 'themes' AND "
                                  "finished_at IS NOT NULL AND id > ? ORDER BY id DESC LIMIT 1",
                                  (row["id"],)).fetchone()
    if themes_run is not None:  # themes found after that coding run used their own settings
        recorded.update({k: v for k, v in json.loads(themes_run["settings"]).items()
                         if k in THEMES_ONLY})
    changed = sorted(k for k in recorded if k in settings and recorded[k] != settings[k]
                     and k not in REPORT_ONLY)
    return {"settings": {k: v if k in REPORT_ONLY else recorded.get(k, v)
                         for k, v in settings.items()},
            "versions": json.loads(row["versions"]), "recorded": True, "changed": changed,
            "summary": json.loads(row["summary"] or "{}")}


def _agreement_view(agreement) -> list[dict] | None:
    """Segment-level agreement per (human, machine) pair from ``agreement_summary``, for templates.

    Returns ``[{"a", "b", "overall", "codes", "units", "interviews", "codes_compared",
    "interview_overall", "decisions_left_out", "sample", "units_phrase",
    "reviewed_left_out"}]``, or None when there is nothing to show; ``units`` is the number of
    segments, so the overall row's Segments cell shows it, not the pooled decisions
    (``decisions_left_out``: code x segment decisions of codes accepted in review, left out of
    the pool, which holds units x codes less these; ``sample``: the human codes are a sample,
    so the units are not every segment; ``units_phrase``: which segments are units, in words;
    ``reviewed_left_out``: the sentence on the human's codings accepted from the machine in
    review, left out, or "").
    """
    if not agreement:
        return None

    def as_percent(row: dict) -> dict:  # agree gives a share in [0, 1]; tables show per cent
        share = row.get("percent")
        return {**row, "percent": None if share is None else 100 * share}

    out = []
    for pair in agreement.get("pairs", []):
        segment = pair.get("segment", {})
        out.append({"a": pair["coder_a"], "b": pair["coder_b"],
                    "overall": as_percent(segment.get("overall", {})),
                    "codes": [as_percent(r) for r in segment.get("codes", [])],
                    "units": segment.get("units", ""), "interviews": segment.get("interviews", 0),
                    # the overall row pools every code's decisions on these segments
                    # decisions of codes accepted in review are left out of the pool
                    "codes_compared": (segment.get("overall", {}).get("n", 0)
                                       + segment.get("decisions_left_out", 0))
                    // segment["units"] if segment.get("units") else 0,
                    "interview_overall": pair.get("interview", {}).get("overall", {}),
                    "decisions_left_out": segment.get("decisions_left_out", 0),
                    "sample": agreement.get("units") != "interviews",
                    "units_phrase": pair.get("units_phrase", "of"),
                    "reviewed_left_out": pair.get("reviewed_note", "")})
    return out or None


def _quoted_segments(sections: list[dict], emergent: list[dict]) -> dict[int, list[dict]]:
    """Where each quoted segment is quoted: segment id -> [{"label", "anchor"}]."""
    quoted: dict[int, list[dict]] = {}

    def add(quotes, label, anchor):
        for q in quotes:
            places = quoted.setdefault(q.segment_id, [])
            if not any(p["anchor"] == anchor for p in places):
                places.append({"label": label, "anchor": anchor})

    for s in sections:
        for c in s["codes"]:
            for t in c["subthemes"]:
                add(t["quotes"], f"{c['code'].name}: {t['label']}", f"theme-{t['key']}")
            add(c["quotes"], c["code"].name, f"code-{c['code'].id}")
    for t in emergent:
        add(t["quotes"], f"Emergent: {t['label']}", f"theme-{t['key']}")
    return quoted


def _transcripts(store, corpus, quoted: dict[int, list[dict]]) -> list[dict]:
    """Each interview's turns, respondent turns split into pieces so quoted segments can be
    highlighted and linked: ``[{"interview", "turns": [{"speaker", "role", "pieces": [(text,
    segment id or None)]}]}]``."""
    by_turn: dict[int, list[dict]] = {}
    for seg in corpus.segments.values():
        if seg["id"] in quoted:
            by_turn.setdefault(seg["turn_id"], []).append(seg)
    out = []
    for row in corpus.interviews:
        text = store.db.execute("SELECT text FROM interviews WHERE id = ?",
                                (row["id"],)).fetchone()[0]
        turns = []
        for turn in store.db.execute('SELECT id, speaker, role, start, "end" FROM turns '
                                     "WHERE interview_id = ? ORDER BY idx", (row["id"],)):
            pieces, at = [], turn["start"]
            for seg in sorted(by_turn.get(turn["id"], []), key=lambda s: s["start"]):
                if seg["start"] > at:
                    pieces.append((text[at:seg["start"]], None))
                pieces.append((text[seg["start"]:seg["end"]], seg["id"]))
                at = seg["end"]
            if at < turn["end"]:
                pieces.append((text[at:turn["end"]], None))
            turns.append({"speaker": turn["speaker"], "role": turn["role"],
                          "pieces": [(clean(p), sid) for p, sid in pieces if p.strip()]})
        out.append({"interview": row, "turns": turns})
    return out


def _meta_columns(interviews: list[dict]) -> list[str]:
    preferred = ["department", "group", "segment", "country", "company", "date", "minutes",
                 "length", "duration"]
    present = {k for i in interviews for k in i["meta"] if k != "role"}
    return [c for c in preferred if c in present]


def _summary(corpus, codebook, code, people: int, segs: int, who: list[str], total: int,
             children: list[dict]) -> str:
    """A plain-language summary a reader can check against the counts."""
    if not segs:
        return "No interviewee raised it in a coded segment."
    text = "" if people > 1 else "Only one interviewee raised it."
    per = {i: 0 for i in who}
    for seg_id in corpus.segments_for(codebook.descendants(code.id)):
        per[corpus.segments[seg_id]["interview_id"]] += 1
    top = max(per.values())
    most = sorted((i for i, n in per.items() if n == top), key=corpus.order)
    if people > 1:
        s = "s" if top != 1 else ""
        if len(most) == 1:
            text += (f"It came up most often with {corpus.role(most[0])} ({most[0]}, {top} "
                     f"segment{s}).")
        else:  # a tie is said as one
            names = [f"{corpus.role(i)} ({i})" for i in most]
            text += (f"It came up most often with {prose_list(names, shown=3)}, {top} "
                     f"segment{s} each.")
    spread = [c for c in children if c["interviewees"]]
    if spread:
        best = max((c["interviewees"], c["segments"]) for c in spread)
        names = [f"“{c['code'].name}”" for c in spread
                 if (c["interviewees"], c["segments"]) == best]
        text += f"{' ' if text else ''}Of its sub-codes, " + (
            f"{names[0]} was the most widespread ({best[0]} of {total} interviewees)"
            if len(names) == 1 else
            f"{prose_list(names)} were the most widespread ({best[0]} of {total} interviewees "
            f"and {best[1]} segments each)")
        silent = [f"“{c['code'].name}”" for c in children if not c["interviewees"]]
        text += f"; no one raised {prose_list(silent, 'or')}." if silent else "."
    return text


def _code_section(corpus, codebook, code_id: str, n_quotes: int, total: int,
                  quoted: set[int] | None = None) -> dict:
    """A code's section; ``quoted`` (the segments quoted so far) is avoided and then grows by
    this section's quotes."""
    quoted = set() if quoted is None else quoted
    code = codebook.codes[code_id]
    ids = codebook.descendants(code_id)
    people, segs, who = corpus.prevalence(ids)
    children = []
    for child in code.children:
        c_people, c_segs, _ = corpus.prevalence(codebook.descendants(child))
        children.append({"code": codebook.codes[child], "interviewees": c_people,
                         "segments": c_segs})
    from .themes import MIN_THEME_WORDS
    subthemes = [_theme_view(corpus, t, 3, codebook, quoted) for t in corpus.themes
                 if t["parent_code"] == code_id]
    in_subthemes = len({s for t in corpus.themes if t["parent_code"] == code_id
                        for s, _ in t["members"]})
    shown = {q.segment_id for t in subthemes for q in t["quotes"]}
    quotes = code_quotes(corpus, ids, n_quotes, exclude=shown | quoted)
    if len(quotes) < 2:
        quotes = code_quotes(corpus, ids, n_quotes, exclude=shown)
    if len(quotes) < 2:
        quotes = code_quotes(corpus, ids, n_quotes)
    quoted.update(q.segment_id for q in quotes)
    missing = [i for i in corpus.interviews if i["id"] not in who]
    return {"code": code, "interviewees": people, "segments": segs, "total": total,
            "children": children, "quotes": quotes, "subthemes": subthemes, "missing": missing,
            "subtheme_note": f"The sub-themes hold {in_subthemes} of the code's {segs} segments; "
                             f"the others are shorter than {MIN_THEME_WORDS} words or fit none "
                             "of them."
                             if subthemes else "",
            "summary": _summary(corpus, codebook, code, people, segs, who, total, children)}


SUB_CODE_SHARE = 0.25  # a sub-code shown beside a sub-theme codes at least this share of it


def _sub_codes(corpus, codebook, theme: dict) -> str:
    """The parent code's sub-codes that code at least ``SUB_CODE_SHARE`` of a sub-theme's
    segments, most first, at most two, and any other its machine label is named after
    ("Expressive performance and service gaps", where the researcher applied "Service gaps"
    more than the machine did), with their counts: what the codebook calls the talk a
    sub-theme gathers, beside what its words say ("" when none does)."""
    if codebook is None or theme["parent_code"] not in codebook.codes:
        return ""
    from .themes import child_counts
    members = [s for s, _ in theme["members"] if s in corpus.segments]
    counts = child_counts([corpus.codes_by_segment.get(s, {}).keys() for s in members],
                          codebook, theme["parent_code"])
    named = _named_children(codebook, theme["parent_code"],
                            theme.get("machine_label") or theme.get("label", ""))
    shown = [(n, child) for n, child in counts[:2]
             if members and n >= SUB_CODE_SHARE * len(members)]
    shown += [(n, child) for n, child in counts
              if (n, child) not in shown and n and child in named]
    for child in named:  # sub-codes of another code, where the two meet
        if codebook.codes[child].parent != theme["parent_code"]:
            wanted = set(codebook.descendants(child))
            shown.append((sum(1 for s in members
                              if wanted & set(corpus.codes_by_segment.get(s, {}))), child))
    return ", ".join(f"{codebook.codes[child].name} ({n} of {len(members)})"
                     for n, child in shown)


def _questions(corpus, codebook, theme: dict, share: float = SUB_CODE_SHARE) -> str:
    """The guide questions whose answers hold at least ``share`` of a theme's segments, most
    first, at most two, with their counts ("no guide question" for talk after the
    interviewer's own follow-ups or asides): a theme that only echoes one question is that
    question's topic, and one that answers none came up outside the guide."""
    members = [s for s, _ in theme["members"] if s in corpus.segments]
    if codebook is None or not codebook.guide or not members:
        return ""
    number = {g.id: n for n, g in enumerate(codebook.guide, start=1)}
    text = {g.id: g.text for g in codebook.guide}
    counts = Counter(corpus.segments[s].get("question_id") for s in members)
    last = len(number) + 1  # on a tie, guide questions first, in guide order
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], number.get(kv[0], last)))
    shown = []
    for qid, n in ranked[:2]:
        if n < share * len(members):
            break
        shown.append((f"question {number[qid]} “{text[qid]}”" if qid in text
                      else "no guide question") + f" ({n} of {len(members)})")
    return ", ".join(shown)


def _overlaps(corpus, theme: dict) -> str:
    """The sub-themes of other codes holding at least ``themes.SHARED_SHARE`` of a theme's
    segments (a segment coded under two codes is clustered with each), most first, at most
    two, with the segments shared: a reader adding up themes should not count them twice.
    The pairs :func:`qualcx.themes.shared_segments` lists are those where either side shows
    the other here."""
    from .themes import shared
    mine = {s for s, _ in theme["members"]}
    found = []
    for other in corpus.themes:
        if other["key"] == theme["key"] or other["parent_code"] == theme["parent_code"]:
            continue
        n = shared(mine, {s for s, _ in other["members"]})
        if n:
            found.append((n, other["label"]))
    found.sort(key=lambda x: -x[0])
    return ", ".join(f"{label} ({n})" for n, label in found[:2])


def _theme_view(corpus, theme: dict, n: int, codebook=None, quoted: set[int] | None = None
                ) -> dict:
    """A theme as the templates show it; its quotes avoid the segments in ``quoted`` (quoted
    earlier in the report) when at least two others can be quoted, and are added to it."""
    ids = {corpus.segments[s]["interview_id"] for s, _ in theme["members"]
           if s in corpus.segments}
    kept = [corpus.segments[s] for s, _ in theme["members"] if s in corpus.segments]
    return {"key": theme["key"], "label": theme["label"], "keywords": theme["keywords"],
            "keyword_text": keyword_text(theme["keywords"][:6], kept,
                                         theme.get("keyword_words", {})),
            "sub_codes": _sub_codes(corpus, codebook, theme),
            "questions": _questions(corpus, codebook, theme),
            "overlaps": _overlaps(corpus, theme),
            "machine_label": theme.get("machine_label", ""),  # when the label is the researcher's
            "segments": len(theme["members"]), "interviewees": len(ids),
            "quotes": _fresh_quotes(corpus, theme, n, codebook, quoted)}


def keyword_text(keywords: list[str], segments: list[dict], stands_for: dict) -> str:
    """"status page (6), February outage (1 + 2 asked, 9 with “outage”)": per keyword, the
    segments using it, those answering a follow-up question naming it, and, for a keyword that
    took the place of a word, the segments saying either (see :data:`THEME_COUNTS`)."""
    from .themes import keyword_asked, keyword_standing, keyword_use
    texts = [s["text"] for s in segments]
    prompts = [s.get("follow_up", "") for s in segments]
    parts = []
    for (k, n), a, w in zip(keyword_use(keywords, texts), keyword_asked(keywords, texts, prompts),
                            keyword_standing(keywords, texts, prompts, stands_for)):
        either = f", {w} with {' or '.join(f'“{x}”' for x in stands_for[k])}" \
            if w is not None and w > n + a else ""
        parts.append(f"{k} ({n}{f' + {a} asked' if a else ''}{either})")
    return ", ".join(parts)


def _fresh_quotes(corpus, theme: dict, n: int, codebook, quoted: set[int] | None) -> list:
    prefer = _carrying_named_child(corpus, codebook, theme)
    quotes = []
    if quoted:
        fresh = dict(theme, members=[m for m in theme["members"] if m[0] not in quoted])
        quotes = theme_quotes(corpus, fresh, n, prefer)
    if len(quotes) < min(2, n):
        quotes = theme_quotes(corpus, theme, n, prefer)
    if quoted is not None:
        quoted.update(q.segment_id for q in quotes)
    return quotes


def _named_children(codebook, parent: str, label: str) -> list[str]:
    """The sub-code of ``parent`` a machine label is named after ("Causes of churn: price
    increase" -> ["churn.causes"]), or the two it is named after, in either order
    ("Expressive performance and service gaps"; a pair is named most carried first), or the
    sub-codes of another code that follow its phrase where the two codes meet ("Mobile app:
    instrumental and expressive performance", see :func:`qualcx.themes.other_code`), or []."""
    from .themes import children_label, meeting_tail, plain_name

    def groups(children):
        return [[child] for child in children] + [list(p) for p in permutations(children, 2)]

    def name(group):
        return plain_name(codebook.codes[group[0]].name) if len(group) == 1 else \
            children_label([codebook.codes[c].name for c in group])
    for group in groups(codebook.codes[parent].children):
        if label == name(group) or label.startswith(f"{name(group)}: "):
            return group
    for code in codebook.top_level:
        if code.id == parent:
            continue
        for group in groups(code.children):
            if label.endswith(f": {meeting_tail([codebook.codes[c].name for c in group])}"):
                return group
    return []


def _carrying_named_child(corpus, codebook, theme: dict) -> set[int]:
    """The members carrying the sub-code the machine named a sub-theme after ("Causes of
    churn: price increase" is named after "Causes of churn"), or either of the two it is
    named after ("Expressive performance and service gaps"), or none when its label names no
    sub-code or is the researcher's own."""
    if codebook is None or theme.get("machine_label") or \
            theme["parent_code"] not in codebook.codes:
        return set()
    wanted = {d for c in _named_children(codebook, theme["parent_code"], theme["label"])
              for d in codebook.descendants(c)}
    return {s for s, _ in theme["members"]
            if wanted & set(corpus.codes_by_segment.get(s, {}))}


def write_atomic(path: Path, data: str | bytes):
    """Write text or bytes to ``path`` so a crash never leaves a half-written file in its place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if isinstance(data, bytes):
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a report is an ordinary file, not a private temp file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


FORMATS = ("html", "md", "docx")


def _stored_agreement(project):
    """Agreement between the project's human coders and the machine (None without human codes)."""
    from .agree import agreement_summary
    return agreement_summary(project)


def write_report(project, formats: tuple[str, ...] = ("html", "md"),
                 agreement: dict | None = None) -> list[Path]:
    """Render the report into the project's ``reports/`` folder; returns the files written.

    Args:
        project: the project.
        formats: any of ``html``, ``md`` and ``docx``.
        agreement: inter-coder agreement to show in the method section (see
            :func:`build_context`).
    """
    if agreement is None:
        agreement = _stored_agreement(project)
    context = build_context(project, agreement)
    env = environment(project.root / "templates")
    written = []
    for fmt in formats:
        path = project.reports_dir / f"report.{fmt}"
        if fmt == "docx":
            from .docx_report import render_docx
            write_atomic(path, render_docx(context))
        else:
            write_atomic(path, env.get_template(f"report.{fmt}.j2").render(**context))
        written.append(path)
    return written
