"""passerlink: links Swedish municipal people registers to RCard M5 and keeps them in sync."""

__version__ = "0.1.0"
