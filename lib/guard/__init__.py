"""Spots medical content, and urgent warning signs, in a message sent through the public contact form.

The contact form takes non-medical questions only (appointments, directions, billing,
insurance, the practice). When a message looks medical, the form shows a notice and
offers a consultation instead; when it reports an urgent warning sign, it tells the
person to call the office now or 911. This package only decides; it stores nothing and
knows nothing about Django.

How a message is read: accents stripped and case folded, split into words, each word's
misspelling repaired (a list, then a one-letter repair against long medical words) and
stemmed with both the English and the Spanish Snowball stemmer, since a message is often
in both languages; then phrases of the vocabularies in data/ (one file per vocabulary and
language, each naming its sources) are matched on stems. Every step is one pass with
bounded work per word, so a long message is read in linear time.

The rules:

- The guard protects the writer's health information, or that of the person they write
  for. A question about what the practice offers (which services, for which body part or
  condition, what they cost, who does them, whether insurance pays: "do you treat tennis
  elbow?", "do you do PRP for hair") says nothing about anyone's health and is not
  medical, unless it says whose ("do you treat MY arthritis?") or anything else in the
  message is medical. A question about symptoms, risks or what is normal ("is fever a side
  effect?") asks for a clinician's answer and is medical.
- Urgent means the message reports, as happening now, one of: fever or chills; redness
  or heat at a treated site (the message mentions a procedure the person had); pain or
  redness spreading; numbness or weakness that is new (sudden, since yesterday, now, or
  after a procedure); chest pain; trouble breathing. The same words negated ("no fever"),
  asked about in general ("what if I get a fever?", "¿da fiebre el PRP?"), or in the past
  ("a fever last year", "numbness for years") leave the message medical but not urgent.
  Every urgent message is medical.
"""

from lib.guard.rules import URGENT_SIGNS, Assessment, Signal, assess, looks_medical, medical_signals

__all__ = ["URGENT_SIGNS", "Assessment", "Signal", "assess", "looks_medical", "medical_signals"]
