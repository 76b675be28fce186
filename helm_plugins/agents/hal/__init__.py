"""HAL (arXiv 2510.11977): agent harness with sandboxes, cost accounting, accuracy-cost frontiers and trace flags."""
