"""`ied-workflow diagram`: the state diagram, drawn from the machine itself."""

from __future__ import annotations

from ied_workflow import states


def diagram() -> None:
    """Print the state diagram (Mermaid), drawn from the machine itself."""
    print(states.mermaid_diagram())
