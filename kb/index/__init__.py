"""The search index. Every Whoosh import in the project lives in this package."""
