"""AMI: typed events at the edge and a reconnecting client over panoramisk's Manager."""
