"""Forms of the procedure record and of adverse events (rules stay in procedures.services)."""
