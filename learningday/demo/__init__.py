"""The demo organisation and a compressed Learning Day played by simulated learners."""
