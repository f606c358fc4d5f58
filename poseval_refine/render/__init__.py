"""Renderers: tables and plots from result data."""
