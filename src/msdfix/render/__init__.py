"""Output: unified diffs, per-file summaries, JSON."""
