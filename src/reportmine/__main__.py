"""``python -m reportmine`` runs the command-line interface."""

from .cli import main

main()
