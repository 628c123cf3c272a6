"""ReelOps: the MLOps platform of a video-streaming service."""
