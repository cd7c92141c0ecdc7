"""Personal data and untrusted text: redaction, the leak scan, escaping, safe ids."""
