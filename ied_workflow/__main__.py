"""`python -m ied_workflow` is the `ied-workflow` command."""

from ied_workflow.cli.main import main

main()
