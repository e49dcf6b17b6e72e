"""Views of the booking pages (`public`) and of the staff calendar (`staff`)."""
