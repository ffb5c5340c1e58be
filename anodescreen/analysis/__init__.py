"""Plain functions that turn energies, profiles and densities into physical quantities."""
