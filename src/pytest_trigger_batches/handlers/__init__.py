"""One module per resource; each handler takes a `Context` and the `TriggerBackend`."""
