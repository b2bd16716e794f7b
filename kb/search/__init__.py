"""Turning what people type into ranked positions and the passages that answer."""
