"""Hostile MCP servers: tiny SDK-free scripts (fast to start) and a real MCPServer one."""
