"""The bitrate model: a throughput quantile model, MPC over it, its training and evidence."""
