"""Forms of the patients app, by audience and concept: the staff chart (`chart`)."""
