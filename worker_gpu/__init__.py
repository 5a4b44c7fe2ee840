"""worker_gpu."""
