"""``python -m ssdf_ai`` runs the command line."""

from ssdf_ai._entry import main

main()
