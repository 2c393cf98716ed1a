"""Word vectors for the knowledge-base matcher's semantic signal: navec, shipped inside the ``natasha`` wheel.

Nothing is downloaded: the vectors (``navec_news_v1_1B_250K_300d_100q``, 26 MB on disk, 250 000 Russian words,
300 dimensions, product-quantised) come with the ``natasha`` package from the registry. ``natasha`` itself is
not imported (it would load its own models): only its data file is read, by the small ``navec`` package.

Loading costs about 0.8 s and 190 MB of memory, once per process (``functools.cache``). Whether the bot
uses them is decided by measurement (``benchmarks/kb_bench.py --vectors``) and the ``KB_VECTORS`` setting.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NAVEC_FILE = "data/emb/navec_news_v1_1B_250K_300d_100q.tar"


def navec_path() -> Path | None:
    """Where natasha's wheel put the navec vectors, without importing natasha; None when not installed."""
    spec = importlib.util.find_spec("natasha")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / NAVEC_FILE
    return path if path.is_file() else None


class NavecVectors:
    """Unit vectors of words from a navec file."""

    def __init__(self, path: Path) -> None:
        from navec import Navec  # imported here: numpy and navec cost nothing unless the vectors are used

        self._navec: Any = Navec.load(str(path))
        self._cache: dict[str, Sequence[float] | None] = {}

    def vector(self, word: str) -> Sequence[float] | None:
        if word in self._cache:
            return self._cache[word]
        import numpy

        result: Sequence[float] | None = None
        raw = self._navec.get(word)
        if raw is not None:
            norm = float(numpy.linalg.norm(raw))
            if norm > 0:
                result = raw / norm
        if len(self._cache) < 50_000:
            self._cache[word] = result
        return result


@functools.cache
def load_navec() -> NavecVectors | None:
    """The vectors, loaded once per process; None when natasha (and its data) is not installed."""
    path = navec_path()
    return NavecVectors(path) if path is not None else None
