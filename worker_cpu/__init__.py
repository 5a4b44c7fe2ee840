"""worker_cpu."""
