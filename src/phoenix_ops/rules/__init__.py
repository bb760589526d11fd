"""Static rules of `check`, one module per area; `phoenix_ops.catalog` collects them."""
