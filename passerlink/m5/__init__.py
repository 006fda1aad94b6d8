"""The RCard M5 Admin API: the client and every M5-specific assumption, in one room.

Extraction, the workbench and the sync all reach M5 through ``M5Client``; nothing else in
passerlink builds an M5 URL or reads an M5 answer's shape.
"""

from __future__ import annotations

from passerlink.m5._client import M5Client, format_filter

__all__ = ["M5Client", "format_filter"]
