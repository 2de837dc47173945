"""Calendar holds and out-of-office: Google Calendar v3, or a local calendar served as ICS."""
