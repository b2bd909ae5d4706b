"""GitHub Actions step outputs: what msdfix did, for the workflow's later steps.

Outputs are appended to the file named by ``$GITHUB_OUTPUT`` (nothing happens outside Actions)
in the runner's ``name<<DELIMITER`` form, which carries multi-line values. ``msdfix pr`` writes
``result``, ``pr-number``, ``pr-url`` and ``changed-files``; ``python -m msdfix.bot.outputs``
turns a ``msdfix --output-format json`` report read on stdin into ``result`` (``changes`` or
``clean``) and ``changed-files``, for the Action's check mode.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Mapping

from msdfix.render.quoting import quote_path


def write(values: Mapping[str, str], env: Mapping[str, str] = os.environ) -> None:
    """Append ``values`` to ``$GITHUB_OUTPUT`` when it is set."""
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return
    text = ""
    for name, value in values.items():
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        text += f"{name}<<{delimiter}\n{value}\n{delimiter}\n"
    # One write of text that always encodes (a name that is not UTF-8 as \udcxx escapes): all
    # outputs or none, never a traceback after the first.
    with open(path, "a", encoding="utf-8", errors="backslashreplace") as out:
        out.write(text)


def from_json_report(text: str) -> dict[str, str]:
    """``result`` and ``changed-files`` (one path a line) of a ``--output-format json`` run."""
    data = json.loads(text)
    changed = [f["path"] for f in data.get("files", []) if f.get("changed")]
    return {"result": "changes" if changed else "clean", "changed-files": path_lines(changed)}


def path_lines(paths: list[str]) -> str:
    """One path a line; a path with a newline or another control character quoted as git quotes
    it, so that each line is one whole path (``a<newline>b`` made two)."""
    return "\n".join(quote_path(p) for p in paths)


def main() -> int:
    """Check mode: outputs from the JSON report on stdin."""
    try:
        values = from_json_report(sys.stdin.read())
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        print(f"msdfix: cannot read the JSON report for the step outputs: {exc}", file=sys.stderr)
        return 2
    write(values)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
