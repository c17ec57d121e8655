"""The MCP surface: `episode-bot mcp`, the library served to AI assistants over stdio."""
