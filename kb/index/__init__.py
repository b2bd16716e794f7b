"""The search index. Every Whoosh import in the project lives in this package."""

from whoosh.query import Query
from whoosh.searching import Searcher

# The searcher and query types, for layers above that must not import Whoosh.
__all__ = ["Query", "Searcher"]
