"""The contact guard's original home, kept so that `from lib.medical_guard import ...` goes on working.

The guard itself lives in `lib.guard` (rules, vocabularies and their sources).
"""

from lib.guard import URGENT_SIGNS, Assessment, Signal, assess, looks_medical, medical_signals

__all__ = ["URGENT_SIGNS", "Assessment", "Signal", "assess", "looks_medical", "medical_signals"]
