"""prt: PoseTrack/MPII evaluation identical to the official kits, and a pose refiner."""

__version__ = "0.1.0"
