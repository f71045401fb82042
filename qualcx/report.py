"""The thematic-analysis report (Kvale's stage 7) in HTML and Markdown."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import jinja2

from . import __version__
from .analysis import (clean, code_interview_matrix, code_quotes, load_corpus, theme_quotes)

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
    return env


def _md_escape(text: str) -> str:
    """Make transcript text inert in Markdown: no HTML tags, no stray table pipes."""
    text = clean(str(text))
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|")):
        text = text.replace(char, entity)
    return text


def _heat(count: int, top: int) -> str:
    """A background colour for a matrix cell: white for 0, deeper blue for more."""
    if not count or not top:
        return "#ffffff"
    share = count / top
    light = int(235 - 150 * share)
    return f"rgb({light}, {min(255, light + 12)}, 255)"


def build_context(project) -> dict:
    """Everything the templates show, computed from the store."""
    from .project import now_iso
    codebook = project.codebook
    settings = project.settings
    corpus = load_corpus(project.store)
    n_quotes = int(settings["quotes_per_code"])
    total = len(corpus.interviews)
    sections = []
    for rq in codebook.research_questions:
        codes = []
        for code_id in rq.codes:
            codes.append(_code_section(corpus, codebook, code_id, n_quotes, total))
        sections.append({"rq": rq, "codes": codes})
    emergent = [_theme_view(corpus, t, 3) for t in corpus.themes if t["parent_code"] is None]
    matrix = code_interview_matrix(corpus, codebook)
    top = max((c for row in matrix for c in row["counts"].values()), default=0)
    return {"title": settings["report_title"] or codebook.name, "version": __version__,
            "date": now_iso()[:10], "project": project.root.name, "codebook": codebook,
            "settings": settings, "interviews": corpus.interviews, "total": total,
            "segments": len(corpus.segments),
            "coded_segments": sum(1 for s in corpus.segments if corpus.codes_by_segment.get(s)),
            "coders": corpus.coders, "sections": sections, "emergent": emergent,
            "matrix": matrix, "matrix_top": top,
            "meta_columns": _meta_columns(corpus.interviews)}


def _meta_columns(interviews: list[dict]) -> list[str]:
    preferred = ["department", "group", "country", "company", "date", "minutes"]
    present = {k for i in interviews for k in i["meta"] if k != "role"}
    return [c for c in preferred if c in present]


def _code_section(corpus, codebook, code_id: str, n_quotes: int, total: int) -> dict:
    code = codebook.codes[code_id]
    ids = codebook.descendants(code_id)
    people, segs, who = corpus.prevalence(ids)
    children = []
    for child in code.children:
        c_people, c_segs, _ = corpus.prevalence(codebook.descendants(child))
        children.append({"code": codebook.codes[child], "interviewees": c_people,
                         "segments": c_segs})
    subthemes = [_theme_view(corpus, t, 2) for t in corpus.themes if t["parent_code"] == code_id]
    shown = {q.segment_id for t in subthemes for q in t["quotes"]}
    quotes = code_quotes(corpus, ids, n_quotes, exclude=shown)
    if len(quotes) < 2:
        quotes = code_quotes(corpus, ids, n_quotes)
    missing = [i for i in corpus.interviews if i["id"] not in who]
    return {"code": code, "interviewees": people, "segments": segs, "total": total,
            "children": children, "quotes": quotes, "subthemes": subthemes, "missing": missing}


def _theme_view(corpus, theme: dict, n: int) -> dict:
    ids = {corpus.segments[s]["interview_id"] for s, _ in theme["members"]
           if s in corpus.segments}
    return {"key": theme["key"], "label": theme["label"], "keywords": theme["keywords"],
            "segments": len(theme["members"]), "interviewees": len(ids),
            "quotes": theme_quotes(corpus, theme, n)}


def write_atomic(path: Path, text: str):
    """Write ``text`` to ``path`` so a crash never leaves a half-written file in its place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(project, formats: tuple[str, ...] = ("html", "md")) -> list[Path]:
    """Render the report into the project's ``reports/`` folder; returns the files written."""
    context = build_context(project)
    env = environment(project.root / "templates")
    written = []
    for fmt in formats:
        text = env.get_template(f"report.{fmt}.j2").render(**context)
        path = project.reports_dir / f"report.{fmt}"
        write_atomic(path, text)
        written.append(path)
    return written
