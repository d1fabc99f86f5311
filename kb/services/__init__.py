"""Writes. Every change to content goes through a function here, inside a transaction."""
