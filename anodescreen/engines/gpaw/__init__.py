"""GPAW: plane-wave PAW DFT (PBE, the gpaw-data setups), spin-polarised with k-points, through ASE."""

from anodescreen.engines.gpaw.engine import GpawEngine, GpawSettings

__all__ = ["GpawEngine", "GpawSettings"]
