"""``python -m reportmine`` runs the command-line interface."""

from .cli import main

if __name__ == "__main__":  # not when a spawned worker process (Dask, process pool) re-imports the main module
    main()
