"""The build command: structures of any host family (or references, compounds), nothing computed."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from rich.table import Table

from anodescreen.errors import AnodescreenError
from anodescreen.cli.common import app, one_line_errors, out


@app.command()
@one_line_errors
def build(
    family: str = typer.Argument(..., help="a host family (sac, graphene, bilayer, heterostructure, slab, ...), "
                                            "reference or compound"),
    output: Path = typer.Option(..., "-o", "--output", help="folder to write into"),
    metal: str = typer.Option("Fe", help="SAC metal, or the element of a reference"),
    motif: str = typer.Option("N4", help="SAC pocket"),
    size: str | None = typer.Option(None, help="supercell, e.g. 5x5 or r3xr3"),
    stacking: str = typer.Option("AB", help="bilayer stacking"),
    layers: int = typer.Option(1, help="bilayer: metal layers (1-4)"),
    defect: str = typer.Option("pristine", help="graphene defect"),
    phase: str = typer.Option("2H", help="heterostructure MoS2 phase (2H or 1T')"),
    region: str = typer.Option("gallery", help="heterostructure sites: gallery, top or bottom"),
    material: str = typer.Option("Cu", help="slab material (element or SEI formula) or compound formula"),
    miller: str = typer.Option("111", help="slab surface"),
    adsorbate: str | None = typer.Option(None, help="also write host + this alkali on every site"),
    site_radius: float = typer.Option(3.0, help="SAC sites within this distance of the metal (Å)"),
    field: list[str] = typer.Option([], "--field", "-F", help="any field of the family's spec entry, as "
                                                              "name=YAML value (e.g. -F vacuum=20), repeatable"),
) -> None:
    """Write structures (POSCAR, CIF, extxyz) and a summary table, without computing."""
    import yaml
    from ase.io import write as ase_write
    from pydantic import ValidationError
    from pymatgen.io.ase import AseAtomsAdaptor

    from anodescreen.hosts import FAMILIES
    from anodescreen.structures import bulk_metal, compound, isolated_atom, min_distance
    from anodescreen.workflows.plan import expand_hosts, host_complexes
    from anodescreen.workflows.spec import CampaignSpec, validation_message

    options = {"metal": metal, "motif": motif, "stacking": stacking, "layers": layers, "defect": defect,
               "phase": phase, "region": region, "material": material, "miller": miller,
               "site_radius": site_radius}
    extra = {"reference": lambda: [bulk_metal(metal), isolated_atom(metal)],  # besides the host families
             "compound": lambda: [compound(material)]}
    if family in extra:
        structures = extra[family]()
    elif family in FAMILIES:
        entry = {"family": family, **FAMILIES[family].build_options(options), **({"size": size} if size else {})}
        for item in field:
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise AnodescreenError(f"{item!r} is not name=value", "field")
            try:
                entry[name.strip()] = yaml.safe_load(value)
            except yaml.YAMLError:
                raise AnodescreenError(f"{item!r}: the value is not valid YAML", "field") from None
        try:
            spec = CampaignSpec.model_validate(
                {"name": "build", "hosts": [entry], "adsorbates": [{"element": adsorbate or "Li"}]})
        except ValidationError as exc:
            raise AnodescreenError(validation_message(exc)) from None
        element = spec.adsorbates[0].element
        structures = []
        for host in expand_hosts(spec, element):
            structures.append(host.structure)
            if adsorbate or host.multilayer is not None:
                structures += [s for _, s in host_complexes(host, element)]
    else:
        names = ", ".join([*FAMILIES, *extra])
        raise AnodescreenError(f"unknown family {family!r} (use {names})", "family")
    if output.exists() and not output.is_dir():
        raise AnodescreenError(f"{output} is a file, not a folder", "output")
    output.mkdir(parents=True, exist_ok=True)
    table = Table(title=str(output))
    for name in ("label", "formula", "atoms", "strain", "min distance (Å)", "file"):
        table.add_column(name)
    for s in structures:
        stem = re.sub(r"[^A-Za-z0-9.+-]+", "_", s.properties["label"]).strip("_")
        s.to(filename=str(output / f"{stem}.vasp"), fmt="poscar")
        s.to(filename=str(output / f"{stem}.cif"))
        atoms = AseAtomsAdaptor.get_atoms(s)
        atoms.info["label"] = s.properties["label"]
        ase_write(output / f"{stem}.extxyz", atoms, format="extxyz")
        strain = s.properties.get("strain")
        table.add_row(s.properties["label"], s.composition.formula.replace(" ", ""), str(len(s)),
                      "-" if strain is None else f"{100 * strain:.2f} %", f"{min_distance(s):.3f}",
                      f"{stem}.vasp/.cif/.extxyz")
    out.print(table)
