"""CSV / .xlsx downloads of a plugin's lists through the core's export (formula-safe cells, Japan time)."""
from portal.exports import Column, batched, export_response, format_arg, stream_query

__all__ = ["Column", "export_response", "format_arg", "batched", "stream_query"]
