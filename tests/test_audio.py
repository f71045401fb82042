"""Speech to text: the optional faster-whisper extra, tested on a clip spoken by espeak-ng."""

import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from qualcx.audio import Cue, to_vtt, transcribe_files
from qualcx.cli import cli
from qualcx.readers import read_captions


def test_vtt_written_reads_back_as_captions(tmp_path):
    text = to_vtt([Cue(0.0, 2.5, " Hello there. "), Cue(3661.25, 3663.0, "The price went up.")])
    assert "00:00:00.000 --> 00:00:02.500\nHello there." in text
    assert "01:01:01.250 --> 01:01:03.000" in text
    (doc,) = read_captions(tmp_path / "a.vtt", text.encode())
    assert [(r.text, r.start_time) for r in doc.turns] == [
        ("Hello there. The price went up.", 0.0)]


def test_without_the_extra_the_command_says_how_to_install(make_project, monkeypatch):
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    root = make_project({})
    (root / "interviews").mkdir(exist_ok=True)
    (root / "talk.wav").write_bytes(b"RIFF")
    result = CliRunner().invoke(cli, ["-p", str(root), "transcribe", str(root / "talk.wav")])
    assert result.exit_code == 1
    assert "speech to text needs the audio extra: pip install 'qualcx[audio]'" in result.output


def test_an_existing_transcript_is_not_replaced(tmp_path):
    (tmp_path / "p1.vtt").write_text("WEBVTT\n")
    (tmp_path / "p1.wav").write_bytes(b"RIFF")
    written, errors = transcribe_files([tmp_path / "p1.wav"], tmp_path, model=object())
    assert written == [] and "p1.vtt: already exists and may hold corrections" in errors[0]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_spoken_clip_becomes_a_transcript(make_project):
    pytest.importorskip("faster_whisper")
    root = make_project({})
    (root / "interviews").mkdir()
    clip = root / "clip.wav"
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(clip),
                    "The support team answered every ticket on the same day."], check=True)
    result = CliRunner().invoke(cli, ["-p", str(root), "transcribe", str(clip),
                                      "--language", "en"])
    assert result.exit_code == 0, result.output
    vtt = (root / "interviews" / "clip.vtt").read_text()
    assert vtt.startswith("WEBVTT") and "-->" in vtt
    words = vtt.lower()
    assert "support" in words and "ticket" in words
    result = CliRunner().invoke(cli, ["-p", str(root), "ingest"])
    assert result.exit_code == 0, result.output
    assert "clip" in result.output
