"""Simulation: Pix-like banks, candidate populations and whole certifications."""

from pixirt.simulation.answers import simulate_answers
from pixirt.simulation.bank import framework, pix_like_bank

__all__ = ["framework", "pix_like_bank", "simulate_answers"]
