"""The RCard M5 Admin API: the client and every M5-specific assumption, in one room.

Extraction, the workbench and the sync all reach M5 through ``M5Client``; nothing else in
passerlink builds an M5 URL or reads an M5 answer's shape. ``M5Dialect`` holds how the site's
API pages, filters and embeds (``[m5]``); ``passerlink.m5.checks`` probes whether it does.
"""

from __future__ import annotations

from passerlink.m5._client import M5Client, M5Record
from passerlink.m5._dialect import USER_RELATIONS, M5AssumptionError, M5Dialect, format_filter
from passerlink.m5._listing import Page

__all__ = ["M5AssumptionError", "M5Client", "M5Dialect", "M5Record", "Page", "USER_RELATIONS", "format_filter"]
