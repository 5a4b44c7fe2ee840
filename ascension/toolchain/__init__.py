"""Obtaining and checking the real servers Ascension runs against."""
