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
@pass_state
def ingest(state):
    """Read transcripts from interviews/ into the project store.

    Unchanged files are skipped; a file that cannot be read is reported and the rest are still
    read (the exit code is then 1). Example:

        qualcx -p my-study ingest
    """
    from . import pipeline
    result = pipeline.ingest(state.project, state.progress)
    _print_ingest(result)
    if result.errors:
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


def _print_small_talk(result):
    if result.small_talk:
        n = sum(len(t.members) for t in result.small_talk)
        click.echo(f"Set aside {n} segments of small talk in interview openings and closings "
                   f"({'; '.join(t.label for t in result.small_talk)}).")


@cli.command()
@click.option("--suggest-codes", is_flag=True,
              help="Also write the emergent themes as draft codes to a separate codebook file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="File for --suggest-codes (default: reports/suggested-codes.yaml).")
@pass_state
def themes(state, suggest_codes, output):
    """Find sub-themes within each code and emergent themes in uncoded talk.

    Small talk (greetings, consent, thanks in the interviews' openings and closings) is set
    aside, not reported as a theme. Example:

        qualcx -p my-study themes --suggest-codes
    """
    from . import pipeline
    from .export import themes_rows
    result = pipeline.themes(state.project, state.progress)
    _print_themes(themes_rows(state.project))
    _print_small_talk(result)
    if suggest_codes:
        from .themes import write_suggested_codes
        path, n = write_suggested_codes(state.project, result, Path(output) if output else None)
        click.echo(f"Wrote {n} draft codes to {path}; review them and copy the ones to keep "
                   "into your codebook.")


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
            _print_small_talk(result)
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
