"""The `embedlab` command line: argument parsing and printing over the Python API."""
