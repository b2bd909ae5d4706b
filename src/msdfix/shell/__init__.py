"""Shell analysis: RUN instructions (simple commands, package-manager classification) and the
command a stage starts (CMD/ENTRYPOINT and the scripts they run)."""

from msdfix.shell.commands import Command, Word, parse_commands
from msdfix.shell.script import RunScript, run_script

__all__ = ["Command", "RunScript", "Word", "parse_commands", "run_script"]
