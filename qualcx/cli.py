"""The ``qualcx`` command line: a thin layer over :mod:`qualcx.pipeline`."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import click

from . import __version__
from .errors import QualcxError
from .progress import Progress
from .project import Project, init_project


class _Group(click.Group):
    """Turns every error into one line on stderr and exit code 1, without a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QualcxError as exc:
            raise click.ClickException(str(exc)) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except BrokenPipeError:  # output piped into a reader that stopped (e.g. head)
            sys.stderr.close()
            os._exit(0)
        except KeyboardInterrupt:
            raise click.ClickException("interrupted; the project store is unchanged by the "
                                       "step that was running") from None
        except Exception as exc:  # noqa: BLE001 - last resort, keep the one-line promise
            if os.environ.get("QUALCX_DEBUG"):
                raise
            raise click.ClickException(f"unexpected error: {type(exc).__name__}: {exc} "
                                       "(set QUALCX_DEBUG=1 to see the traceback)") from exc


class _State:
    def __init__(self, root: str, quiet: bool):
        self.root = root
        self.quiet = quiet
        self.progress = Progress(enabled=not quiet and sys.stderr.isatty())
        self._project = None

    @property
    def project(self) -> Project:
        if self._project is None:
            self._project = Project(Path(self.root))
        return self._project


pass_state = click.make_pass_decorator(_State)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-p", "--project", "root", default=".", show_default=True,
              type=click.Path(file_okay=False), help="Project folder.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.version_option(__version__, prog_name="qualcx")
@click.pass_context
def cli(ctx, root, quiet):
    """qualcx: qualitative interview analysis, offline.

    A project is a folder with interviews/ (transcripts and metadata.csv), codebook/ (one
    codebook YAML) and reports/. Run the whole analysis with:

        qualcx -p my-study run
    """
    ctx.obj = _State(root, quiet)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
def init(directory):
    """Create a project folder with the default codebook and a commented qualcx.toml.

    Existing files are kept. Example:

        qualcx init my-study
    """
    written = init_project(Path(directory))
    for path in written:
        click.echo(f"created {path}")
    root = Path(directory)
    click.echo(f"Project ready in {directory}. Next:\n"
               f"  1. edit {root / 'codebook' / 'cx.yaml'}: its research_questions and guide are "
               "the demo study's; write your own (keep or adapt the codes)\n"
               f"  2. put transcripts in {root / 'interviews'} (and their roles in "
               "metadata.csv)\n"
               f"  3. run 'qualcx -p {directory} run'")


def _print_ingest(result):
    rows = [("interview", "speakers", "turns", "resp. words", "segments", "warnings")]
    for r in result.rows:
        rows.append((r["interview"], r["speakers"], str(r["turns"]), str(r["respondent_words"]),
                     str(r["segments"]), str(len(r["warnings"]))))
    _table(rows, left=2)
    for r in result.rows:
        for warning in r["warnings"]:  # an unchanged file's were said when it was read
            if warning not in r.get("said", ()):
                click.echo(f"warning: {warning}", err=True)
    for coding in result.orphaned:
        click.echo(f"warning: human code '{coding['code']}' by {coding['coder']} in "
                   f"{coding['interview_id']} lost its text (kept, unattached): "
                   f"\"{coding['text'][:60]}\"", err=True)
    for rejection in result.lost_rejections:
        click.echo(f"warning: review rejection of '{rejection['code']}' by {rejection['coder']} in "
                   f"{rejection['interview_id']} lost its text (kept, unattached): "
                   f"\"{rejection['text'][:60]}\"", err=True)
    for moved in result.reanchored:
        click.echo(f"warning: {moved['file']}: {moved['kind']} '{moved['code']}' by "
                   f"{moved['coder']} re-anchored to corrected text (similarity "
                   f"{moved['similarity']:.3f}); check it: %s" % _change(moved["text"],
                                                                      moved["new_text"]),
                   err=True)
    for error in result.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(f"Ingested {len(result.rows) - len(result.skipped)} interview(s), "
               f"{len(result.skipped)} unchanged, {len(result.errors)} failed.")


def _change(old: str, new: str, context: int = 20, width: int = 60) -> str:
    """Where a corrected passage differs, old -> new, with a little text either side: a typo
    fixed late in a long passage is not hidden behind two identical openings."""
    old, new = " ".join(old.split()), " ".join(new.split())
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1

    def excerpt(text: str) -> str:
        a, b = max(0, start - context), min(len(text), len(text) - end + context)
        piece = _shorten(text[a:b], width)
        return ("…" if a else "") + piece + ("…" if b < len(text) and not piece.endswith("…")
                                            else "")
    return f"\"{excerpt(old)}\" -> \"{excerpt(new)}\""


def _shorten(text: str, width: int = 60) -> str:
    """A passage on one line, cut to ``width`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


@cli.command()
@click.option("--redact", is_flag=True,
              help="Replace person names, e-mails and phone numbers with placeholders such as "
                   "[PERSON 1] (kept for this project from then on; the mapping stays in the "
                   "project store).")
@pass_state
def ingest(state, redact):
    """Read transcripts from interviews/ into the project store.

    Reads .txt, .md, .docx, .odt, .pdf, .vtt, .srt, .csv and .xlsx. Unchanged files are
    skipped; a file that cannot be read is reported and the rest are still read (the exit
    code is then 1). Example:

        qualcx -p my-study ingest --redact
    """
    from . import pipeline
    if redact:
        state.project.settings["redact"] = True
    result = pipeline.ingest(state.project, state.progress)
    _print_ingest(result)
    read = len(result.rows) - len(result.skipped)
    if read and state.project.store.db.execute(  # the machine has coded this project before
            "SELECT 1 FROM runs WHERE command = 'code' AND finished_at IS NOT NULL "
            "UNION SELECT 1 FROM codings WHERE is_machine = 1 LIMIT 1").fetchone():
        click.echo(f"{read} interview(s) were read anew and have no machine codes yet: run "
                   "'qualcx code' (or 'qualcx run') before the next report.")
    if result.errors:
        sys.exit(1)


@cli.command()
@click.argument("audio", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--language", default=None, help="Spoken language code, e.g. en (default: "
              "detected; the packaged tiny.en model knows English only).")
@click.option("--overwrite", is_flag=True, help="Replace existing .vtt transcripts.")
@pass_state
def transcribe(state, audio, language, overwrite):
    """Turn recordings into .vtt transcripts in interviews/ (needs the audio extra).

    Speakers are not told apart: add '<v Name>' tags to the cues, then run 'qualcx ingest'.
    Install with pip install 'qualcx[audio]'. Example:

        qualcx -p my-study transcribe recordings/p01.wav recordings/p02.mp3
    """
    from .audio import load_whisper, transcribe_files
    project = state.project
    project.require_interviews_dir()
    model = load_whisper(project.settings["whisper_model"])
    with state.progress("Transcribing recordings", len(audio)) as step:
        written, errors = transcribe_files([Path(a) for a in audio], project.interviews_dir,
                                           model=model, language=language, overwrite=overwrite,
                                           progress=step)
    for path in written:
        click.echo(f"wrote {path}")
    for error in errors:
        click.echo(f"error: {error}", err=True)
    click.echo(f"Transcribed {len(written)} recording(s), {len(errors)} failed. Check the text, "
               "then run 'qualcx ingest'.")
    if errors:
        sys.exit(1)


def _print_code(result):
    """What the machine coder did; the report's coverage also counts human codes, so say whose."""
    click.echo(f"Coded {result['segments']} segments: {result['codings']} machine codings, "
               f"{result['coded_segments']} segments with at least one machine code.")
    if result.get("learned_from"):
        n = result.get("learned_interviews", 0)
        if result.get("learned_complete", True):
            uncoded = (f"{result.get('learned_negatives', 0)} they left uncoded (negative "
                       "examples)")
        else:
            uncoded = ("none they left uncoded (human_codes_complete = false: the codes are a "
                       "sample, so uncoded segments are not negative examples)")
        click.echo(f"Learned from the human codes of {n} interview{'s' if n != 1 else ''}: "
                   f"{result['learned_from']} segments a person coded (positive examples) and "
                   f"{uncoded};\n"
                   "each segment of those interviews is decided only from other interviews' codes.")
    if result.get("withheld"):
        n = result["withheld"]
        click.echo(f"{n} code{'s' if n != 1 else ''} a person rejected in review reached "
                   f"{'their' if n != 1 else 'its'} threshold and {'were' if n != 1 else 'was'} "
                   "not applied (kept as near misses; 'qualcx explain' shows them).")


@cli.command()
@pass_state
def code(state):
    """Apply the codebook to every respondent segment (machine codes only; human codes stay).

    Example:

        qualcx -p my-study code
    """
    from . import pipeline
    _print_code(pipeline.code(state.project, state.progress))


def _print_themes(found, verb="Found"):
    _table([("theme", "label", "parent code", "interviewees", "segments"),
            *_themes_table(found)], left=3)
    if any(t["named"] for t in found):
        click.echo("* named by you; machine label in the report")
    click.echo(f"{verb} {len(found)} themes.")
    if not found:
        click.echo("No code (nor the uncoded rest) had enough segments to be clustered; for a "
                   "small project lower min_theme_segments in qualcx.toml.")


def _themes_table(found):
    return [(t["theme"], _shorten(t["label"], 80) + ("*" if t["named"] else ""),
             t["parent_code"] or "(emergent)", str(t["interviewees"]), str(t["segments"]))
            for t in found]


def _print_unmatched(names):
    """The researcher's theme names that no theme takes now (they stay stored)."""
    for name in names:
        click.echo(f"warning: {name.message()}", err=True)


SHARED_SHOWN = 8  # pairs of sub-themes sharing segments listed by 'qualcx themes'


def _print_shared(result, shown: int = SHARED_SHOWN):
    from .themes import shared_segments
    pairs = shared_segments(result.themes)
    if pairs:
        more = (f"; and {len(pairs) - shown} more pairs ('qualcx explain KEY' lists the "
                f"sub-themes a theme shares segments with)") if len(pairs) > shown else ""
        click.echo("Sub-themes of different codes sharing segments (a segment coded under two "
                   "codes is clustered with each), most shared first: "
                   + "; ".join(f"{a} and {b} ({n})" for a, b, n in pairs[:shown]) + more + ".")


def _print_topics(result):
    from .themes import names_a_topic
    topics = [t for t in result.themes if names_a_topic(t)]
    if topics:
        click.echo("Named by one phrase of their talk, which says what they are about but not "
                   "what is said of it: " + ", ".join(f"{t.key} “{t.label}”" for t in topics)
                   + ". Read them ('qualcx explain KEY') and give them names of your own "
                   "(--rename KEY LABEL).")


def _print_small_talk(result):
    if result.small_talk:
        n = sum(len(t.members) for t in result.small_talk)
        counts: Counter = Counter()
        for t in result.small_talk:
            counts[t.label] += len(t.members)
        parts = "; ".join(f"{label}: {k}" for label, k in counts.items())
        click.echo(f"Set aside {n} segments of small talk in interview openings and closings "
                   f"({parts}).")


@cli.command()
@click.option("--suggest-codes", is_flag=True,
              help="Also write the emergent themes as draft codes to a separate codebook file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="File for --suggest-codes (default: reports/suggested-codes.yaml).")
@click.option("--rename", "renames", nargs=2, multiple=True, metavar="KEY LABEL",
              help="Give theme KEY (as listed, e.g. cx-3) your own label, kept over later runs; "
                   "an empty LABEL removes it. Repeatable. Alone, it does not find the themes "
                   "again.")
@pass_state
def themes(state, suggest_codes, output, renames):
    """Find sub-themes within each code and emergent themes in uncoded talk.

    Small talk (greetings, consent, thanks in the interviews' openings and closings) is set
    aside, not reported as a theme. Your names for themes (--rename) are given again to the
    themes of every later run that hold at least half the same segments. Example:

    \b
        qualcx -p my-study themes --suggest-codes
        qualcx -p my-study themes --rename cx-3 "Customer champions"
    """
    from . import pipeline
    from .export import themes_rows
    from .theme_names import unmatched
    if renames:
        for line in pipeline.rename_themes(state.project, list(renames)):
            click.echo(line)
        if not suggest_codes:
            _print_themes(themes_rows(state.project), verb="Stored")
            _print_unmatched(unmatched(state.project.store.db))
            click.echo("Run 'qualcx report' to show the names in the report.")
            return
    result = pipeline.themes(state.project, state.progress)
    _print_themes(themes_rows(state.project))
    _print_shared(result)
    _print_topics(result)
    _print_small_talk(result)
    _print_unmatched(result.unmatched)
    if suggest_codes:
        from .themes import write_suggested_codes
        path, n = write_suggested_codes(state.project, result, Path(output) if output else None)
        click.echo(f"Wrote {n} draft code{'s' if n != 1 else ''} to {path}; review "
                   f"{'them' if n != 1 else 'it'} and copy what to keep into your codebook.")


@cli.command()
@click.option("--format", "formats", type=click.Choice(["html", "md", "docx"]), multiple=True,
              help="Format to write (repeatable; default: html and md; docx is a Word file).")
@pass_state
def report(state, formats):
    """Write the thematic-analysis report into reports/ (report.html, .md or .docx).

    When interviews were read anew after the last 'qualcx code', human codes or review
    decisions came in after it (and learn_from_humans is on), or the themes are older than
    the last coding or the last ingest that changed something, it says so (here and in the
    report's method section) and names the commands to run. Example:

        qualcx -p my-study report --format html --format docx
    """
    from . import pipeline
    from .report import stale_notice
    for path in pipeline.report(state.project, tuple(formats) or ("html", "md")):
        click.echo(f"Report written to {path}")
    notice = stale_notice(state.project.store, bool(state.project.settings["learn_from_humans"]))
    if notice:
        click.echo(f"warning: report out of date: {notice}", err=True)
    _warn_default_questions(state.project)


def _warn_default_questions(project):
    from .analysis import prose_list
    from .project import default_questions_unchanged
    same = default_questions_unchanged(project)
    if same:
        click.echo(f"warning: the codebook still holds the default {prose_list(same)} (the "
                   "demo study's), and the report presents them as your method; replace them "
                   f"in {project.codebook_dir} (see 'Using it on your own interviews' in the "
                   "README)", err=True)


@cli.command()
@pass_state
def run(state):
    """Ingest, code, find themes and write the report, in that order.

    The Word report is rewritten too when reports/report.docx exists. Example:

        qualcx -p my-study run
    """
    from . import pipeline
    from .export import themes_rows

    def show(stage, result):
        if stage == "ingest":
            _print_ingest(result)
        elif stage == "code":
            _print_code(result)
        elif stage == "themes":
            _print_themes(themes_rows(state.project))
            _print_shared(result)
            _print_small_talk(result)
            _print_unmatched(result.unmatched)
        else:
            for path in result:
                click.echo(f"Report written to {path}")

    result = pipeline.run(state.project, state.progress, on_stage=show)
    _warn_default_questions(state.project)
    if result.ingest.errors:
        sys.exit(1)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
              show_default=True,
              help="File format; xlsx writes codings, themes and the matrices as sheets of one "
                   "workbook.")
@click.option("--table", type=click.Choice(["codings", "themes"]), default="codings",
              show_default=True, help="What to export.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="File to write (default: reports/<table>.csv, or reports/qualcx.xlsx).")
@pass_state
def export(state, fmt, table, output):
    """Export codings (one row per segment and code) or themes as CSV, or everything as xlsx.

    Example:

        qualcx -p my-study export --format csv -o codings.csv
    """
    from .export import export as export_table
    from .export import export_xlsx
    if fmt == "xlsx":
        path, sheets = export_xlsx(state.project, Path(output) if output else None)
        click.echo(f"Wrote {len(sheets)} sheets ({', '.join(sheets)}) to {path}")
        return
    path, n = export_table(state.project, table, Path(output) if output else None)
    click.echo(f"Wrote {n} rows to {path}")


def _table(rows: list[tuple], left: int = 1) -> None:
    """Print rows as aligned columns: the first ``left`` columns left-aligned, the rest right."""
    rows = [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(c.ljust(w) if i < left else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))).rstrip())


@cli.command("import-codes")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--coder", default=None, help="Coder's name for rows without a coder column.")
@click.option("--interview-column", default=None, help="Column holding the interview (file name or id).")
@click.option("--code-column", default=None, help="Column holding the code (id or name).")
@click.option("--text-column", default=None, help="Column holding the coded passage.")
@click.option("--coder-column", default=None, help="Column holding the coder's name.")
@click.option("--unanchored", "unanchored_out", type=click.Path(dir_okay=False), default=None,
              help="Write the rows that could not be anchored to this CSV file.")
@pass_state
def import_codes(state, file, coder, interview_column, code_column, text_column, coder_column,
                 unanchored_out):
    """Import human codings from a CSV or XLSX file (one row per coded passage).

    Columns: interview, code, coder, and the passage text or start/end offsets; common names
    (and Taguette's export: document, tag, content) are recognised. Each passage is anchored
    to the segments it covers; rows that cannot be anchored are listed, the others are
    imported, and the exit code is then 1 (as for ingest). Importing the same file again adds
    nothing. Segments left uncoded in the imported interviews count as 'no code' when the
    coder learns, unless human_codes_complete = false in qualcx.toml (a coded sample). Example:

        qualcx -p my-study import-codes codes.csv --coder ana
    """
    from .humancodes import import_codes as run_import, write_unanchored
    columns = {"interview": interview_column, "code": code_column, "text": text_column,
               "coder": coder_column}
    result = run_import(state.project, Path(file), coder=coder, columns=columns)
    if result.per_coder:
        _table([("coder", "codings added")] + sorted(result.per_coder.items()))
    for code, n in sorted(result.unknown_codes.items()):
        click.echo(f"warning: code '{code}' ({n} row(s)) is not in the codebook; imported, but "
                   "it is not compared with the machine until the codebook has it", err=True)
    for row, interview, code, reason in result.unanchored[:20]:
        click.echo(f"not anchored: {file}, row {row} ({interview}, {code}): {reason}", err=True)
    if len(result.unanchored) > 20:
        click.echo(f"... and {len(result.unanchored) - 20} more not anchored rows"
                   + ("" if unanchored_out else "; list them all with --unanchored FILE.csv"),
                   err=True)
    if unanchored_out:
        click.echo(f"Wrote {len(result.unanchored)} not anchored rows to "
                   f"{write_unanchored(result, unanchored_out)}")
    click.echo(f"Imported {result.passages} passage(s) as {result.imported} new coding(s) "
               f"({result.already} already present); {len(result.unanchored)} row(s) not anchored.")
    if result.interviews:
        click.echo(_completeness_note(len(result.interviews),
                                      state.project.settings["human_codes_complete"]))
    if result.imported:
        _say_code_again(state.project)
    if result.unanchored:  # like ingest's unreadable files: the rest is in, the exit code says so
        sys.exit(1)


def _completeness_note(n: int, complete: bool) -> str:
    """What the segments left uncoded in imported interviews mean, by human_codes_complete."""
    these = f"these {n} interviews" if n != 1 else "this interview"
    if complete:
        return (f"Segments you left uncoded in {these} count as 'no code' when the coder learns "
                "(human_codes_complete = true); if you coded a sample, set human_codes_complete "
                "= false in qualcx.toml.")
    return (f"Segments you left uncoded in {these} are no judgement when the coder learns "
            "(human_codes_complete = false: your codes are a sample); if you coded every "
            "passage, set human_codes_complete = true in qualcx.toml.")


def _say_code_again(project):
    """After new human decisions: the machine's codes (which learn from them when
    learn_from_humans is on) and the themes are as they were until the next coding run."""
    if project.settings["learn_from_humans"]:
        click.echo("The machine codes and themes do not use these yet: run 'qualcx run' (or "
                   "'qualcx code', 'qualcx themes' and 'qualcx report') so the coder learns "
                   "from them.")


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Sheet to write, .xlsx or .csv (default: reports/review.xlsx).")
@click.option("--import", "import_file", type=click.Path(dir_okay=False), default=None,
              help="Read a filled-in review sheet back instead of writing one.")
@click.option("--coder", default=None, help="Reviewer's name (with --import).")
@pass_state
def review(state, output, import_file, coder):
    """Write a sheet of machine codes to accept or reject, or read one back.

    The sheet lists every machine coding (with segment, interview, role, score and evidence)
    and the uncoded or low-confidence segments; fill in 'decision' (accept or reject) and
    'new_codes' (code ids, separated by ';'). Example:

    \b
        qualcx -p my-study review -o review.xlsx
        qualcx -p my-study review --import review.xlsx --coder ana
    """
    from .review import import_review, write_review
    if import_file:
        if not coder:
            raise click.UsageError("give the reviewer's name with --coder NAME")
        r = import_review(state.project, Path(import_file), coder)
        for line, reason in r.left_out:
            click.echo(f"not imported: {import_file}, line {line}: {reason}", err=True)
        moved = (f" {r.reanchored} row(s) were found again by their text after a re-ingest."
                 if r.reanchored else "")
        left = f" {len(r.left_out)} row(s) not imported." if r.left_out else ""
        kinds = {"accepted": f"accept(s) of a code {coder} had already coded there",
                 "rejected": "rejection(s) already recorded",
                 "added": f"new code(s) {coder} had already coded there"}
        unchanged = (f" {r.unchanged} unchanged: " + ", ".join(
            f"{n} {kinds[k]}" for k, n in r.already.items()) + "." if r.unchanged else "")
        click.echo(f"Read {import_file} as {coder}'s decisions: {r.accepted} accepted, "
                   f"{r.rejected} rejected, {r.added} new code(s) added.{unchanged}"
                   f"{moved}{left}")
        if r.accepted or r.rejected or r.added:
            _say_code_again(state.project)
        return
    target = Path(output) if output else state.project.reports_dir / "review.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)
    path, n = write_review(state.project, target)
    click.echo(f"Wrote {n} rows to {path}; fill in 'decision' and 'new_codes', then run "
               f"'qualcx review --import {path} --coder NAME'.")


def _fmt(value, percent=False) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:.1f}" if percent else f"{value:.2f}"


def _print_agreement(res, names: dict) -> None:
    from .agree import units_phrase
    n = len(res.interviews)
    both = f"the {n} interview{'s' if n != 1 else ''} both coded"
    which = units_phrase(res.unit_choice, res.coder_a)
    over = (f"{res.units} respondent segment{'s' if res.units != 1 else ''} {which} {both}"
            if res.level == "segment" else both)  # at interview level the units are those
    click.echo(f"\n{res.level.capitalize()} level: {res.coder_a} (A, reference) vs {res.coder_b} "
               f"(B), {over}")
    rows = [("code", "both", "only A", "only B", "neither", "n", "kappa", "alpha", "agree %",
             "precision", "recall", "F1")]
    for r in (*res.codes, res.overall):
        label = r.code if r.code in names or r.code == "(overall)" else f"{r.code} (not in codebook)"
        rows.append((label, r.both, r.only_a, r.only_b, r.neither, r.n, _fmt(r.kappa),
                     _fmt(r.alpha), _fmt(r.percent, True), _fmt(r.precision), _fmt(r.recall),
                     _fmt(r.f1)))
    _table(rows)
    click.echo(f"mean of per-code kappas: {_fmt(res.mean_kappa)}; disagreements: "
               f"{len(res.disagreements)}")
    if res.decisions_left_out:
        d = res.decisions_left_out
        click.echo(f"left out: {d} code × {res.level} decision{'s' if d != 1 else ''} of codes "
                   "accepted in review (neither agreement nor disagreement)")


@cli.command()
@click.argument("coders", nargs=-1)
@click.option("--level", type=click.Choice(["segment", "interview", "both"]), default="both",
              show_default=True, help="Unit of agreement.")
@click.option("--units", type=click.Choice(["interviews", "coded", "judged"]), default=None,
              help="Segment units: every respondent segment of the interviews both coded; only "
                   "segments either coder coded; or only segments coder A (the reference) "
                   "judged: coded, or decided in review (for a coded sample). Default: "
                   "interviews, or judged when human_codes_complete = false.")
@click.option("--include-reviewed", is_flag=True,
              help="Count the machine codes a person accepted in review as coded by both (by "
                   "default those code decisions are compared on neither side: they agree with "
                   "the machine by construction).")
@click.option("--disagreements", "disagreements_out", type=click.Path(dir_okay=False),
              default=None, help="Write the disagreements to review to this CSV file.")
@pass_state
def agree(state, coders, level, units, include_reviewed, disagreements_out):
    """Inter-coder agreement per code and overall: kappa, alpha, % agreement, P/R/F1.

    CODER_A is the reference, CODER_B is compared with it; with no names, every human coder
    is compared with the machine. When interviews were read anew after the last 'qualcx
    code', or human decisions came in after it, it warns first, as 'qualcx report' does.
    Example:

        qualcx -p my-study agree researcher qualcx --level segment
    """
    from .agree import (DISAGREEMENT_COLUMNS, HIERARCHY_NOTE, POOLING, accepted_in_review,
                        agreement, default_pairs, default_units, disagreement_rows,
                        reviewed_note)
    from .export import to_csv
    from .humancodes import HumanCodesError
    from .report import stale_notice
    from .review import reattach_rejections
    project = state.project
    reattach_rejections(project.store)
    if len(coders) not in (0, 2):
        raise click.UsageError("give two coders (CODER_A CODER_B) or none")
    pairs = [tuple(coders)] if coders else default_pairs(project.store,
                                                         project.settings["coder_name"])
    if not pairs:
        raise HumanCodesError(project.root, "no human codes in the project; import some with "
                              "'qualcx import-codes FILE' or 'qualcx review --import FILE'")
    notice = stale_notice(project.store, bool(project.settings["learn_from_humans"]),
                          themes=False)  # agreement does not use the themes
    if notice:  # before the table, or before the error it explains (no machine codes left)
        click.echo(f"warning: agreement out of date: {notice}", err=True)
    known = {r[0] for r in project.store.db.execute("SELECT DISTINCT coder FROM codings")}
    for name in {c for p in pairs for c in p} - known:
        raise HumanCodesError(project.root, f"no codings by '{name}'; coders in the project: "
                              + (", ".join(sorted(known)) or "none") + " (run 'qualcx code' for "
                              "the machine's)")
    if units is None:
        units = default_units(project.settings)
        if units == "judged" and level != "interview":
            click.echo("Segment units: only the segments the reference coder (A) judged, coded "
                       "or decided in review, since human_codes_complete = false (the human "
                       "codes are a sample): precision and recall both hold for those segments. "
                       "--units coded adds the segments only B coded (as A's \"no\"); --units "
                       "interviews counts every segment of the interviews both coded.")
    names = project.codebook.codes
    found = []
    for a, b in pairs:
        for lvl in (("segment", "interview") if level == "both" else (level,)):
            res = agreement(project.store, a, b, project.codebook, lvl, units, include_reviewed)
            _print_agreement(res, names)
            found.extend(disagreement_rows(res))
    accepted = sum(accepted_in_review(project.store, c) for c in {c for p in pairs for c in p})
    if accepted and not include_reviewed:
        click.echo(f"\n{reviewed_note(accepted)}; each such code decision is compared on neither "
                   "side (see \"left out\" under the tables); --include-reviewed counts them.")
    elif accepted:
        click.echo(f"\n{accepted} coding{'s' if accepted != 1 else ''} accepted from the machine "
                   f"in review {'are' if accepted != 1 else 'is'} counted as coded by both "
                   "(--include-reviewed): they agree with it by construction.")
    click.echo(f"\nNote: {HIERARCHY_NOTE}. Precision, recall and F1 are B's against A. {POOLING}. "
               "n/a: undefined (e.g. a code neither coder applied).")
    if disagreements_out:
        Path(disagreements_out).write_text(to_csv(found, DISAGREEMENT_COLUMNS), encoding="utf-8")
        click.echo(f"Wrote {len(found)} disagreements to {disagreements_out}")


@cli.command()
@click.argument("segment")
@pass_state
def explain(state, segment):
    """Show one segment with its question, every code on it and the evidence behind each; or
    one theme with how its label was made.

    SEGMENT is a segment id, INTERVIEW:INDEX (0-based position in the interview), or a theme
    as 'qualcx themes' lists it. Examples:

    \b
        qualcx -p my-study explain I01:4
        qualcx -p my-study explain cx-1
    """
    from .review import find_theme, human_source, segment_explanation
    if find_theme(state.project.store, segment) is not None:
        _explain_theme(state.project, segment)
        return
    e = segment_explanation(state.project, segment)
    role = f", {e['role']}" if e["role"] else ""
    click.echo(f"Segment {e['id']}: {e['interview']}:{e['index']} ({e['speaker']}{role}), "
               f"turn {e['turn']}, characters {e['start']}-{e['end']}")
    for label in ("question", "before", "text", "after"):
        if e[label]:
            click.echo(f"  {label + ':':<9} " + e[label].replace("\n", "\n" + " " * 12))
    click.echo("Machine codes:" + ("" if e["machine"] else " none"))
    if e["no_machine_code"]:
        click.echo(f"  {e['no_machine_code']}")
    for c in e["machine"]:
        click.echo(f"  {c['code']} ({c['name']}) by {c['coder']}: score {_fmt(c['score'])}")
        _echo_evidence(c, e["start"])
    # a code a person rejected may have reached its threshold: it is kept as a near miss
    withheld = any(c["evidence"].get("rejected_by") for c in e["near_misses"])
    click.echo("Near misses (scored" + (" below the threshold, or rejected in review" if withheld
                                        else ", below the threshold") + "):"
               + ("" if e["near_misses"] else " none"))
    if e["no_near_miss"]:
        click.echo(f"  {e['no_near_miss']}")
    for c in e["near_misses"]:
        click.echo(f"  {c['code']} ({c['name']}) by {c['coder']}: score {_fmt(c['score'])}, "
                   f"threshold {_fmt(c['threshold'])}")
        _echo_evidence(c, e["start"])
    click.echo("Human codes:" + ("" if e["human"] else " none"))
    for c in e["human"]:
        click.echo(f"  {c['code']} ({c['name']}) by {c['coder']}{human_source(c['evidence'])}")
    if e["rejections"]:
        click.echo("Rejected:")
        for r in e["rejections"]:
            click.echo(f"  {r['code']} ({r['name']}) rejected by {r['coder']}"
                       f"{human_source(r['source'])}")


def _theme_legend() -> str:
    from .themes import (MIN_THEME_INTERVIEWS, MIXED_LEAD_COVERAGE, SECOND_PHRASE_SEGMENTS,
                         TAIL_EXACT_SEGMENTS)
    return (
        "How to read this: a segment says a keyword when it does, or the interviewer's "
        "follow-up question it answers does (“+ n asked” counts those only asked), or it says "
        "a word whose place the keyword took (“n with ‘w’”); guide questions do not count. "
        "“Any coder” counts human and machine codes; “interviews people coded” are those with "
        f"human codes. A sub-code's name is followed by keywords only when at least "
        f"{SECOND_PHRASE_SEGMENTS:.0%} of the segments say them ({TAIL_EXACT_SEGMENTS:.0%} "
        f"the keywords as such) and {MIN_THEME_INTERVIEWS} interviewees (or all, when fewer); "
        f"a theme no sub-code names keeps its keywords when {MIXED_LEAD_COVERAGE:.0%} of its "
        "segments say them. “I01:10, segment 11” is the interview's segment 10 (counting "
        "from 0, as 'qualcx explain I01:10' takes it) and segment id 11, as in the report's "
        "transcript links. The report quotes the theme's central segments from different "
        "interviewees, so its quotes may differ from the three most central here.")


def _explain_theme(project, key: str) -> None:
    import textwrap
    from .review import theme_explanation
    e = theme_explanation(project, key)
    where = f"sub-theme of {e['parent']}" if e["parent"] else "emergent theme (no code covers it)"
    click.echo(f"Theme {e['key']}: {e['label']}")
    click.echo(f"  {where}; {e['interviewees']} of {e['of_interviewees']} interviewees, "
               f"{e['segments']} segments")

    def wrapped(head: str, text: str) -> None:
        click.echo(textwrap.fill(text, 96, initial_indent=f"  {head:<10}",
                                 subsequent_indent=" " * 12))
    if e["machine_label"]:
        wrapped("label:", f"your name for it; the machine's label is "
                          f"“{e['machine_label']}”, made as follows.")
    for n, reason in enumerate(e["reasons"] or ["(not recorded: run 'qualcx themes' again)"]):
        wrapped("why:" if not n else "", reason)
    if e["coders"]:
        wrapped("coders:", e["coders"])
    click.echo("  keywords, with the segments using each:")
    click.echo(textwrap.fill(e["keywords"], 96, initial_indent=" " * 12,
                             subsequent_indent=" " * 12))
    wrapped("answers:", e["questions"] or "no guide question, and no follow-up talk, holds a "
                                          "quarter of its segments")
    if e["overlaps"]:
        wrapped("also in:", f"{e['overlaps']} (segments it shares with sub-themes of other "
                            "codes: a segment coded under two codes is clustered with each)")
    click.echo("  most central segments (cosine to the theme's centre):")
    for c in e["central"]:
        click.echo(textwrap.fill(f"{c['ref']}, segment {c['id']} ({c['similarity']:.2f}) "
                                 f"{c['text']}", 96, initial_indent="    ",
                                 subsequent_indent="      ", max_lines=3, placeholder=" …"))
    click.echo(textwrap.fill(_theme_legend(), 96, initial_indent="  ", subsequent_indent="  "))


def _echo_evidence(coding: dict, offset: int) -> None:
    """A machine code's or near miss's stored evidence, one indented line per part."""
    from .review import evidence_lines
    for line in evidence_lines(coding["evidence"], offset, coding["code"]):
        click.echo("      " + line.replace("\n", "\n" + " " * 8))


def main():
    cli(prog_name="qualcx")
