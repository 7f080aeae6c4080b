"""Downloads of a plugin's lists as CSV / .xlsx: formula-safe cells, streamed, one query per batch."""
from portal.exports import Column, batched, export_response, stream_query

__all__ = ["Column", "export_response", "batched", "stream_query"]
