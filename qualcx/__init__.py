"""qualcx: a qualitative interview research workbench.

Ingest transcripts, apply a codebook with sentence embeddings and keywords, discover
themes with BERTopic and write a thematic-analysis report, offline.
"""

import os

# Models are loaded from installed packages or local paths only: never from a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

__version__ = "0.1.0"
