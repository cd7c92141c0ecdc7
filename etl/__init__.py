"""Gongshi: publish issue and rectification lists as a verifiable static site."""

__version__ = "0.1.0"
