"""Personalized artwork: rendering variants, the home-row picture, the artwork chooser."""
