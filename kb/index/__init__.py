"""The search index. Every Whoosh import in the project lives in this package."""

from whoosh.searching import Searcher

__all__ = ["Searcher"]  # the searcher type, for layers above that must not import Whoosh
