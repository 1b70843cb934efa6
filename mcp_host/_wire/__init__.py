"""The wire: framing codecs (newline JSON, Content-Length), JSON-RPC helpers, non-blocking fd streams and the
waiters that match answers to requests. Knows nothing of processes or servers."""
