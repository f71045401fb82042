"""One function per command: each loads what it needs, runs a stage and records the run."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from .errors import ProjectError
from .progress import QUIET, Progress
from .project import Project, now_iso, versions


@contextlib.contextmanager
def recorded(project: Project, command: str, summary: dict):
    """Record the run (settings, versions, times, summary) in the store."""
    run_id = project.store.start_run(command, project.settings, versions(), now_iso())
    yield
    project.store.finish_run(run_id, now_iso(), summary)


def require_segments(project: Project, when: str = "") -> int:
    """The number of segments; an error that says what to do when there are none."""
    project.require_interviews_dir()
    n = project.store.db.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
    if not n:
        raise ProjectError(f"{project.interviews_dir}: no interviews ingested yet; put transcripts "
                           "(.txt with 'Name: text' speaker labels) there and run 'qualcx ingest'"
                           + (f" {when}" if when else ""))
    return n


def _embedder(project: Project):
    from .nlp import Embedder
    s = project.settings
    return Embedder(s["embedding_model"], project.store, batch_size=int(s["batch_size"]))


def ingest(project: Project, progress: Progress = QUIET):
    """Ingest the project's transcripts; see :func:`qualcx.transcribe.ingest`."""
    from .transcribe import find_transcripts, ingest as ingest_files
    project.require_interviews_dir()
    summary: dict = {}
    with recorded(project, "ingest", summary):
        with progress("Reading transcripts", len(find_transcripts(project.interviews_dir))) as step:
            result = ingest_files(project, step)
        # which interviews were read anew or removed: 'qualcx report' names them until coded
        summary.update(interviews=len(result.rows), errors=len(result.errors),
                       skipped=len(result.skipped), removed=list(result.removed),
                       read=[r["interview"] for r in result.rows if not r.get("unchanged")])
    return result


def code(project: Project, progress: Progress = QUIET) -> dict:
    """Apply the codebook to every respondent segment."""
    from .code import code_project
    from .nlp import load_spacy
    codebook = project.codebook  # validate before any slow work
    n = require_segments(project)
    summary: dict = {}
    with recorded(project, "code", summary):
        with progress("Embedding segments", n) as step:
            result = code_project(project, _embedder(project),
                                  load_spacy(project.settings["spacy_model"], "lemmas"), step)
        summary.update({k: v for k, v in result.items() if k != "per_code"},
                       codebook=f"{codebook.name} {codebook.version}")
    return result


def themes(project: Project, progress: Progress = QUIET):
    """Find sub-themes per code and emergent themes; returns a :class:`ThemeResult`."""
    from .nlp import load_spacy
    from .themes import themes_project
    project.codebook  # noqa: B018 - validate the codebook before any slow work
    require_segments(project)
    summary: dict = {}
    with recorded(project, "themes", summary):
        nlp = load_spacy(project.settings["spacy_model"], "lemmas")
        with progress("Finding themes", len(project.codebook.top_level) + 1) as step:
            found = themes_project(project, _embedder(project), step, nlp=nlp)
        summary.update(themes=len(found.themes), small_talk=len(found.small_talk),
                       small_talk_segments=sum(len(t.members) for t in found.small_talk),
                       named=sum(bool(t.machine_label) for t in found.themes),
                       unmatched_names=len(found.unmatched))
    return found


def rename_themes(project: Project, renames: list[tuple[str, str]]) -> list[str]:
    """Name stored themes (``(key, label)``, an empty label removes the name) without finding
    them again; see :func:`qualcx.theme_names.rename`. Returns what was done, one line each."""
    from .theme_names import rename
    summary: dict = {}
    with recorded(project, "rename-themes", summary):
        done = rename(project, renames, now_iso())
        summary.update(renames=len(renames))
    return done


def report(project: Project, formats=("html", "md")):
    """Write the report files; returns their paths."""
    from .report import write_report
    require_segments(project)
    return write_report(project, formats)


@dataclass
class RunResult:
    ingest: object = None
    code: dict = field(default_factory=dict)
    themes: list = field(default_factory=list)
    report: list = field(default_factory=list)


def run(project: Project, progress: Progress = QUIET, on_stage=None) -> RunResult:
    """Ingest, code, find themes and write the report, in that order.

    The Word report is rewritten too when ``reports/report.docx`` exists (an earlier
    ``qualcx report --format docx``), so no out-of-date copy is left beside the new report.
    """
    result = RunResult()
    result.ingest = ingest(project, progress)
    if on_stage:
        on_stage("ingest", result.ingest)
    result.code = code(project, progress)
    if on_stage:
        on_stage("code", result.code)
    result.themes = themes(project, progress)
    if on_stage:
        on_stage("themes", result.themes)
    result.report = report(project, ("html", "md", "docx")
                           if (project.reports_dir / "report.docx").exists() else ("html", "md"))
    if on_stage:
        on_stage("report", result.report)
    return result
