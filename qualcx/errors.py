"""Named exceptions that carry enough context for a researcher to fix the problem."""

from __future__ import annotations


class QualcxError(Exception):
    """Base class for errors that are reported to the user as one line."""


class ProjectError(QualcxError):
    """The project folder or its store cannot be used."""


class SettingsError(QualcxError):
    """A setting in ``qualcx.toml`` is unknown or has the wrong type."""


class SchemaVersionError(ProjectError):
    """The project store was written by an unknown version of qualcx."""


class ModelError(QualcxError):
    """A language or embedding model cannot be loaded."""


class _LocatedError(QualcxError):
    """An error in a user file, optionally at a line."""

    def __init__(self, path, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.message = message
        where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {message}")


class CodebookError(_LocatedError):
    """The codebook YAML is invalid."""


class TranscriptFormatError(_LocatedError):
    """A transcript or metadata file cannot be read."""
