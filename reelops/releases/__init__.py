"""Releases beside production judged on what members did: canary decisions, shadow agreement.

``canary``: the live outcomes of a canary's members against production's (from the
prediction logs and the lake), a bootstrap interval, and the decision to promote, roll
back or keep going, applied in the registry and audited.
"""
