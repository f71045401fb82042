"""The ``qualcx`` command line: a thin layer over :mod:`qualcx.pipeline`."""

from __future__ import annotations

import os
import sys
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
    click.echo(f"Project ready in {directory}: put transcripts in {Path(directory) / 'interviews'}"
               f" and run 'qualcx -p {directory} run'.")


def _print_ingest(result):
    rows = [("interview", "speakers", "turns", "resp. words", "segments", "warnings")]
    for r in result.rows:
        rows.append((r["interview"], r["speakers"], str(r["turns"]), str(r["respondent_words"]),
                     str(r["segments"]), str(len(r["warnings"]))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                             for i, (cell, w) in enumerate(zip(row, widths))))
    for r in result.rows:
        for warning in r["warnings"]:
            click.echo(f"warning: {warning}", err=True)
    for coding in result.orphaned:
        click.echo(f"warning: human code '{coding['code']}' by {coding['coder']} in "
                   f"{coding['interview_id']} lost its text: \"{coding['text'][:60]}\"", err=True)
    for error in result.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(f"Ingested {len(result.rows) - len(result.skipped)} interview(s), "
               f"{len(result.skipped)} unchanged, {len(result.errors)} failed.")


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
    click.echo(f"Coded {result['segments']} segments: {result['codings']} codings, "
               f"{result['coded_segments']} segments with at least one code.")


@cli.command()
@pass_state
def code(state):
    """Apply the codebook to every respondent segment (machine codes only; human codes stay).

    Example:

        qualcx -p my-study code
    """
    from . import pipeline
    _print_code(pipeline.code(state.project, state.progress))


def _print_themes(found):
    rows = [("theme", "label", "parent code", "interviewees", "segments")]
    for row in _themes_table(found):
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))
    click.echo(f"Found {len(found)} themes.")


def _themes_table(found):
    return [(t["theme"], t["label"][:50], t["parent_code"] or "(emergent)", str(t["interviewees"]),
             str(t["segments"])) for t in found]


@cli.command()
@pass_state
def themes(state):
    """Find sub-themes within each code and emergent themes in uncoded talk.

    Example:

        qualcx -p my-study themes
    """
    from . import pipeline
    from .export import themes_rows
    pipeline.themes(state.project, state.progress)
    _print_themes(themes_rows(state.project))


@cli.command()
@click.option("--format", "formats", type=click.Choice(["html", "md"]), multiple=True,
              help="Format to write (repeatable; default: html and md).")
@pass_state
def report(state, formats):
    """Write the thematic-analysis report into reports/.

    Example:

        qualcx -p my-study report --format html
    """
    from . import pipeline
    for path in pipeline.report(state.project, tuple(formats) or ("html", "md")):
        click.echo(f"Report written to {path}")


@cli.command()
@pass_state
def run(state):
    """Ingest, code, find themes and write the report, in that order.

    Example:

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
        else:
            for path in result:
                click.echo(f"Report written to {path}")

    result = pipeline.run(state.project, state.progress, on_stage=show)
    if result.ingest.errors:
        sys.exit(1)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True,
              help="File format.")
@click.option("--table", type=click.Choice(["codings", "themes"]), default="codings",
              show_default=True, help="What to export.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="File to write (default: reports/<table>.csv).")
@pass_state
def export(state, fmt, table, output):
    """Export codings (one row per segment and code) or themes as CSV.

    Example:

        qualcx -p my-study export --format csv -o codings.csv
    """
    from .export import export as export_table
    path, n = export_table(state.project, table, Path(output) if output else None)
    click.echo(f"Wrote {n} rows to {path}")


def main():
    cli(prog_name="qualcx")
