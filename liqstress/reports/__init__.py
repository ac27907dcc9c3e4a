"""Narrative liquidity stress reports (seed 001 Output Specification): Markdown, HTML, figures."""
