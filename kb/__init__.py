"""Positions: a searchable, citable knowledge base of policy positions."""
