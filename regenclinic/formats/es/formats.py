"""Spanish formats for readers in the US, where the clinic is.

Django's Spanish formats are Spain's: a 24-hour clock and day/month/year. Patients here
expect "2:15 p. m." and "03/14/1958" (month/day/year), as on every form and letter they
receive. Formats not set here come from Django's own Spanish module.
"""

from django.utils.translation import gettext_noop

# "a" prints Django's "a.m."/"p.m.", which our Spanish catalogue writes "a. m."/"p. m.". No-break
# spaces, there and before it, so a time never splits across lines ("11:30" above "a. m." in a
# narrow button). Named here so makemessages keeps the two strings in our catalogue.
gettext_noop("a.m.")
gettext_noop("p.m.")

TIME_FORMAT = "g:i\u00a0a"
DATETIME_FORMAT = "j \\d\\e F \\d\\e Y, g:i\u00a0a"
SHORT_DATE_FORMAT = "m/d/Y"
SHORT_DATETIME_FORMAT = "m/d/Y g:i\u00a0a"
DATE_INPUT_FORMATS = ["%m/%d/%Y", "%Y-%m-%d"]
