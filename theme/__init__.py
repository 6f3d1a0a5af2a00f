"""Templates, static assets and design tokens of the hub (no CDN, no external font)."""
