"""Follow-ups: the use cases of the contract, their rows, list filters and history replay."""
