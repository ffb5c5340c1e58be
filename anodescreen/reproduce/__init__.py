"""The reproduction harness: literature targets (``targets.yaml``, pymatgen's formation-energy
tables) recomputed by campaigns on any engine, compared within stated tolerances."""
