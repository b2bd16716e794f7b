"""An editor's save under the live preview: how long until search finds the new words.

Runs the preview (``kb.preview.PreviewServer``, what `flask kb serve` runs) in this
process on a free port, then saves several files one after another, appending a word
no file has, and polls ``/api/search`` over HTTP every 10 ms until the word is found;
each file is then restored and the word polled until gone. The baseline has no preview:
FTS5's own edit time is in the ``update`` section.
"""

from __future__ import annotations

import json
import random
import statistics
import time
import urllib.parse
import urllib.request
from pathlib import PurePosixPath

from bench.http_load import free_port
from bench.sections import SEARCHABLE_TIMEOUT, _append, _unique_word
from bench.workspace import Corpus

SAVES = 3
SETTLE_SECONDS = 1.0  # between saves: an editor does not save five files a second


def _total(url: str, word: str) -> int:
    query = urllib.parse.urlencode({"q": word})
    with urllib.request.urlopen(f"{url}/api/search?{query}", timeout=30) as response:
        return json.load(response)["total"]


def _seconds_until(condition) -> float | None:
    started = time.perf_counter()
    while time.perf_counter() - started < SEARCHABLE_TIMEOUT:
        if condition():
            return time.perf_counter() - started
        time.sleep(0.01)
    return None


def preview_edits(corpus: Corpus, seed: int = 7) -> dict:
    """Median seconds from a save to its words being searchable, over SAVES files."""
    from app import create_app
    from kb.content.slug import is_intro
    from kb.preview import PreviewServer
    from kb.web.preview import enable_preview

    rng = random.Random(seed)
    editable = [path for path in corpus.indexed if not is_intro(PurePosixPath(path).name)]
    targets = rng.sample(editable, min(SAVES, len(editable)))
    app = enable_preview(create_app(corpus.settings_mapping()))
    started = time.perf_counter()
    server = PreviewServer(app, port=free_port(), quiet=True).start()
    ready = time.perf_counter() - started
    found, gone = [], []
    try:
        _total(server.url, "warm up")
        for target in targets:
            time.sleep(SETTLE_SECONDS)
            word = _unique_word(rng)
            originals = _append(corpus.root, [target], word)
            found.append(_seconds_until(lambda w=word: _total(server.url, w) >= 1))
            (corpus.root / target).write_bytes(originals[target])
            gone.append(_seconds_until(lambda w=word: _total(server.url, w) == 0))
    finally:
        server.stop()
    seen = [s for s in found if s is not None]
    return {
        "saves": len(targets),
        "start_s": ready,
        "searchable_s": found,
        "restored_s": gone,
        "median_searchable_s": statistics.median(seen) if len(seen) == len(found) else None,
    }
