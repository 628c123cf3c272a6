"""Personalized artwork: a contextual bandit over each title's artwork, judged off-policy;
rendered variants and the home-row picture."""
