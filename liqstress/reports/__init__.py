"""Narrative liquidity stress reports (structure: docs/model.md §6.6): Markdown, HTML, figures."""
