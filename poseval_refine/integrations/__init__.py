"""Adapters to other libraries' metric interfaces (optional extras): ``integrations.torchmetrics``."""
