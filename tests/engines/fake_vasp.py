"""Stand-in for the VASP binary: replays a real calculation's outputs into the cwd.

Usage: ``python fake_vasp.py REFERENCE_DIR``. Copies vasprun.xml, OUTCAR, CONTCAR,
OSZICAR (gzipped or not) from REFERENCE_DIR, as atomate2's tests do for VASP. A NEB
(image folders 00…N+1 in the cwd) gets each intermediate image's outputs from the
reference's folder of the same name; VASP writes nothing in the endpoint folders.
``python fake_vasp.py --fail MESSAGE``: a run that stops with VASP's error MESSAGE on stdout.
"""

import gzip
import shutil
import sys
from pathlib import Path

OUTPUTS = ("vasprun.xml", "OUTCAR", "CONTCAR", "OSZICAR")


def replay(reference: Path, target: Path) -> None:
    for name in OUTPUTS:
        for candidate in (reference / name, reference / f"{name}.gz"):
            if candidate.exists():
                opener = gzip.open if candidate.suffix == ".gz" else open
                with opener(candidate, "rb") as src, open(target / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                break


if sys.argv[1] == "--fail":
    print(sys.argv[2])
    sys.exit(0)
reference = Path(sys.argv[1])
images = sorted(p for p in Path.cwd().glob("[0-9][0-9]") if p.is_dir())
for folder in images[1:-1] if images else [Path.cwd()]:
    replay(reference / folder.name if images else reference, folder)
print("replayed", reference)
