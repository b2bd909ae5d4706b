"""Facts per ecosystem: tables, command grammars and build-context readers (never decisions)."""
