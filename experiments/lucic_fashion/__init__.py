"""Lucic et al. 2018 on Fashion-MNIST: the loss comparison study (run.py)."""
