"""The command-line layer: argument parsing and output. No packaging logic lives here."""
