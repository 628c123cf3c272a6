"""Personalised artwork: a contextual bandit over each title's artwork, judged off-policy."""
