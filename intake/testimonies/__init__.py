"""Testimonies: storing, reading and matching what families send."""
