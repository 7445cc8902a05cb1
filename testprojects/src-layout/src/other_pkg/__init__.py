# not packaged: only the project module is
