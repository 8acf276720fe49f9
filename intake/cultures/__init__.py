"""Culture batches: the chain-of-identity number, the lifecycle, growth."""
