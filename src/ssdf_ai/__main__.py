"""``python -m ssdf_ai`` runs the command line."""

from ssdf_ai.cli import main

main()
