"""Reading positions: Markdown files with YAML front matter → validated values."""
