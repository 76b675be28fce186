"""Agent evaluation: HAL (harness, cost, frontier, trace flags)."""
