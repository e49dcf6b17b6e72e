"""Staff pages of the procedures app: the record (`records`), adverse events and the safety summary."""
