"""anodescreen: high-throughput DFT screening of alkali-metal anode hosts."""

__version__ = "0.1.0"
