"""``python -m msdfix``."""

from msdfix.cli import main

main()
