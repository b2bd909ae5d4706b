"""Data about package managers and base images."""
