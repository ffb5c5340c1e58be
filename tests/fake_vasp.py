"""Stand-in for the VASP binary: replays a real calculation's outputs into the cwd.

Usage: ``python fake_vasp.py REFERENCE_DIR``. Copies vasprun.xml, OUTCAR, CONTCAR,
OSZICAR (gzipped or not) from REFERENCE_DIR, as atomate2's tests do for VASP.
"""

import gzip
import shutil
import sys
from pathlib import Path

reference = Path(sys.argv[1])
for name in ("vasprun.xml", "OUTCAR", "CONTCAR", "OSZICAR"):
    for candidate in (reference / name, reference / f"{name}.gz"):
        if candidate.exists():
            opener = gzip.open if candidate.suffix == ".gz" else open
            with opener(candidate, "rb") as src, open(name, "wb") as dst:
                shutil.copyfileobj(src, dst)
            break
print("replayed", reference)
