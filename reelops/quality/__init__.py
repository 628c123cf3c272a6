"""Release quality: the evidence a candidate brings, and the gates that judge it."""
