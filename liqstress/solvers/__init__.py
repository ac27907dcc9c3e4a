"""Closed forms, fixed points and numerical drivers."""
