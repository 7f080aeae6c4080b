"""The page links a pager shows: the first and last page and a few around the current one."""
from __future__ import annotations


def window(page: int, pages: int, radius: int = 2) -> list[int | None]:
    """Page numbers to link, ``None`` where pages are left out (shown as an ellipsis):
    ``window(50, 4000)`` → ``[1, None, 48, 49, 50, 51, 52, None, 4000]``."""
    shown = sorted({1, pages, *range(max(1, page - radius), min(pages, page + radius) + 1)})
    result: list[int | None] = []
    for n in shown:
        if result and n - result[-1] > 1:
            result.append(None)
        result.append(n)
    return result
