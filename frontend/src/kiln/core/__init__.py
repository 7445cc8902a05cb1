"""kiln's core library: index client, resolver and installer. It never prints."""
