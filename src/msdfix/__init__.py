"""msdfix: make Dockerfiles smaller, faster to rebuild and safer."""

__version__ = "0.1.0"
