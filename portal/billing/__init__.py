"""The pure billing core: money, periods, aggregation, pricing and invoicing (no Flask, no DB)."""
