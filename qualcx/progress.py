"""Progress bars for long steps; silent when quiet or when the output is not a terminal."""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator


class Progress:
    """Callable as ``with progress("Embedding", total) as step: step(n)``."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    @contextlib.contextmanager
    def __call__(self, desc: str, total: int) -> Iterator[Callable[[int], None]]:
        if not self.enabled or total <= 0:
            yield lambda n=1: None
            return
        from tqdm import tqdm
        bar = tqdm(total=total, desc=desc, unit="", leave=False, file=sys.stderr,
                   dynamic_ncols=True)
        try:
            yield bar.update
        finally:
            bar.close()


QUIET = Progress(enabled=False)
