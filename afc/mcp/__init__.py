"""The MCP server (`afc mcp stdio`): read-only tools for AI assistants; see docs/mcp.md."""
