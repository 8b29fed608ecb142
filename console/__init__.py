"""What people touch: the ``produzir`` command line (and, later, the web console and JSON API)."""
