"""Training: data validation per kind, fine-tuning, evaluation, versions and promotion (`nlpbot train`)."""
