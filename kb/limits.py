"""The limits on what visitors send and editors write, in one place.

Visitors: a search is cut, never refused, so any URL still gets an answer. Editors: a
file over a limit is skipped with a message naming the file and the fix; the rest of
the folder is indexed. The README's "Limits" table lists these with the limits kept
beside the code they bound (the search time limit in ``kb/index/run.py``, the quote
length in ``kb/cite/quote.py``) and the server's (``gunicorn.conf.py``).
"""

from __future__ import annotations

# Search requests (kb/search/engine.py, kb/search/grammar.py)
MAX_QUERY_CHARS = 500  # characters of search text kept, after collapsing whitespace
MAX_CLAUSES = 12  # words or phrases that take part in one search; the rest are ignored
MAX_PHRASE_WORDS = 8  # words of one "quoted phrase"
MAX_WORD_CHARS = 40  # characters of one search word
MAX_TOPIC_FILTERS = 10  # ?topic= values applied to one search
MAX_TOPIC_CHARS = 100  # characters of one ?topic= value
MAX_PAGE = 100  # deepest results page (?page=); higher numbers show this page
MAX_PER_PAGE = 50  # results per page (?per_page=); higher numbers show this many

# Suggestions as you type (kb/service.py, /api/suggest and the OpenSearch suggestions)
MAX_SUGGEST_CHARS = 100  # characters of typed text completed; the rest is ignored

# Addresses (kb/web/views.py, the as_of view): a longer /positions/<slug> is a 404
MAX_ADDRESS_CHARS = 200

# Requests in general (app.py)
MAX_REQUEST_BODY_BYTES = 64 * 1024  # a larger request body gets 413

# Content files (kb/content/loader.py)
MAX_FILE_BYTES = 1_000_000  # a larger position file is skipped: split it
RENDER_SECONDS = 10.0  # a file whose Markdown takes longer to render is skipped

# Editors' side files and front matter (kb/content/editors.py, kb/content/yamlbounds.py)
MAX_EDITORS_FILE_BYTES = 256 * 1024  # a larger topics.yml or synonyms.txt is not read
MAX_YAML_NODES = 10_000  # values one YAML document may build, counting each alias use
MAX_SYNONYM_ENTRIES = 20  # phrases of one synonyms.txt line; the rest are ignored
