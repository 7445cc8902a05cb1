"""`kiln init`: create a new project, library or PEP 723 script.

The modules here compute everything first and write last, so a failure leaves
nothing behind. They never print; the CLI layer reports what they return.
"""
