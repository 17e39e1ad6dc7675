"""Pure models: cost, forecast and sizing. No I/O, no AWS, no printing."""
