"""The Discord adapter: settings, routing, rendering and the client behind `run discord`."""
