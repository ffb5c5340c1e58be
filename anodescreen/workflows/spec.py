"""The campaign spec: a YAML file validated by pydantic; unknown keys are errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from anodescreen.engines import AnyEngine, MLIPEngine
from anodescreen.errors import AnodescreenError, load_yaml
from anodescreen.structures.data import check_alkali, check_element
from anodescreen.structures.defects import DEFECTS, parse_motif
from anodescreen.structures.graphene import supercell_matrix
from anodescreen.workflows.neb import NebSettings

Calculation = Literal["binding_energy", "intercalation_energy", "formation_energy", "diffusion_barrier",
                      "bader_charge", "sac_distortion"]
#: quantities computed from the relaxed complexes in a second stage (NEB, charge analysis)
FOLLOWUPS = ("diffusion_barrier", "bader_charge")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _size(value: str | None) -> str | None:
    if value is not None:
        supercell_matrix(value)
    return value


class SacHosts(_Strict):
    """Single metal atoms in N-doped graphene pockets: one host per metal × motif."""

    family: Literal["sac"]
    metals: list[str] = Field(min_length=1)
    motifs: list[str] = ["N4"]
    size: str | None = Field(None, description="supercell; default from min_image_distance")
    min_image_distance: float = Field(10.0, gt=0, description="Å between periodic metal images")
    site_radius: float = Field(3.0, gt=0, description="sites within this in-plane distance of the metal (Å)")
    bilayer: bool = Field(False, description="a pristine graphene sheet under the SAC sheet (AB)")
    vacuum: float = 15.0

    _size = field_validator("size")(_size)

    @field_validator("metals")
    @classmethod
    def _metals(cls, value: list[str]) -> list[str]:
        return [check_element(m, "metal") for m in value]

    @field_validator("motifs")
    @classmethod
    def _motifs(cls, value: list[str]) -> list[str]:
        for motif in value:
            parse_motif(motif)
        return value


class GrapheneHosts(_Strict):
    """Pristine or defective graphene sheets."""

    family: Literal["graphene"]
    size: str = "4x4"
    defects: list[str] = ["pristine"]
    vacuum: float = 15.0

    _size = field_validator("size")(_size)

    @field_validator("defects")
    @classmethod
    def _defects(cls, value: list[str]) -> list[str]:
        for kind in value:
            if kind != "pristine" and kind not in DEFECTS:
                raise AnodescreenError(f"unknown defect {kind!r} (use pristine, {', '.join(DEFECTS)})")
        return value


class BilayerHosts(_Strict):
    """Bilayer graphene with one metal layer (every gallery site) or a 2–4 layer film."""

    family: Literal["bilayer"]
    stackings: list[Literal["AA", "AB"]] = ["AA", "AB"]
    size: str = Field("r3xr3", description="one-layer supercell, sets the concentration (r3xr3 = C6MC6)")
    layers: list[Literal[1, 2, 3, 4]] = Field([1], description="metal layers")
    lattice: Literal["fcc", "hcp", "bcc"] | None = Field(None, description="multilayer stacking; default per metal")
    max_strain: float = Field(0.05, gt=0, lt=0.5, description="lateral strain allowed in a multilayer")
    vacuum: float = 15.0

    _size = field_validator("size")(_size)


class HeterostructureHosts(_Strict):
    """Graphene on a MoS2 monolayer; alkali at the interface and/or outside."""

    family: Literal["heterostructure"]
    phases: list[Literal["2H", "1T'"]] = ["2H"]
    regions: list[Literal["gallery", "top", "bottom"]] = Field(
        ["gallery"], description="gallery = interface; top = on graphene; bottom = under MoS2")
    films: list[Literal[1, 2, 3, 4]] = Field([], description="metal layers of a film at the interface")
    max_strain: float = Field(0.03, gt=0, lt=0.5)
    max_area: float = Field(150.0, gt=0, description="largest coincidence cell searched (Å²)")
    match: int = Field(0, ge=0, description="which coincidence cell, smallest area first")
    vacuum: float = 15.0


class SlabHosts(_Strict):
    """Surface slabs of metals (Cu(111) …) or SEI compounds (LiF(100) …)."""

    family: Literal["slab"]
    material: str = Field(description="an element (metal slab) or a compound formula (SEI slab)")
    miller: tuple[int, int, int] = (1, 1, 1)
    layers: int = Field(4, ge=1, le=12, description="(hkl) unit planes")
    size: tuple[int, int] = (2, 2)
    vacuum: float = 15.0

    @field_validator("material")
    @classmethod
    def _material(cls, value: str) -> str:
        from anodescreen.structures.compounds import COMPOUNDS

        if value not in COMPOUNDS:
            check_element(value, "material")
        return value


Hosts = Annotated[SacHosts | GrapheneHosts | BilayerHosts | HeterostructureHosts | SlabHosts,
                  Field(discriminator="family")]
_FAMILIES = {"sac", "graphene", "bilayer", "heterostructure", "slab"}


class AnomalyRules(_Strict):
    """What makes a relaxed MLIP geometry untrustworthy. Alkali moving laterally is never flagged:
    in a gallery, sliding between the layers is what intercalation is."""

    max_metal_shift: float = Field(0.8, gt=0, description="Å a SAC metal may move from its pocket")
    min_alkali_ratio: float = Field(0.8, gt=0, description="alkali–alkali distance / bulk nearest neighbour")
    max_adsorbate_gap: float = Field(4.0, gt=0, description="Å from the adsorbate to the nearest host atom")
    flagged: Literal["verify", "exclude", "vote"] = Field(
        "verify", description="verify: flagged results do not vote, but a flagged site a potential puts below or "
                              "within the margin of its best valid site goes to DFT too, which decides; exclude: "
                              "flagged results are dropped; vote: they rank like any other")


class FunnelSpec(_Strict):
    """Which potentials screen, and how many sites each lets through."""

    screen: list[Literal["CHGNet", "SevenNet"]] = Field(["CHGNet", "SevenNet"], min_length=1)
    top_k: int = Field(2, ge=1, description="best sites per potential sent to DFT")
    margin: float = Field(0.10, ge=0, description="also every site within this of a potential's best (eV)")
    fmax: float = Field(0.05, gt=0, description="MLIP force convergence (eV/Å)")
    max_steps: int = Field(300, gt=0)
    anomalies: AnomalyRules = AnomalyRules()


class Adsorbate(_Strict):
    """An alkali adsorbate: one atom per cell (multilayer hosts set their own count)."""

    element: str
    count: Literal[1] = 1

    @field_validator("element")
    @classmethod
    def _alkali(cls, value: str) -> str:
        return check_alkali(value, "element")


class CampaignSpec(_Strict):
    """What to build, compute and store."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    hosts: list[Hosts] = []
    adsorbates: list[Adsorbate] = [Adsorbate(element="Li")]
    calculations: list[Calculation] = Field(
        ["binding_energy", "intercalation_energy"],
        description="diffusion_barrier: NEB of every hop between sites of each host (surfaces and galleries); "
                    "bader_charge: Bader charges and Δρ(z) of the best site per host (CP2K); sac_distortion: "
                    "M-N geometry change")
    references: list[Literal["bulk", "atom"]] = ["bulk", "atom"]
    neb: NebSettings = Field(NebSettings(fmax=0.1), description="how diffusion_barrier paths are run")
    sac_loading: list[int] = Field([1], description="sac_distortion with 1, 2, … alkali atoms around each SAC "
                                                    "metal (2+: copies of the most favourable single-atom site)")
    compounds: list[str] = Field([], description="formation energies from the elements (LiF, Li2O, ...)")
    engine: AnyEngine = MLIPEngine()
    funnel: FunnelSpec | None = Field(None, description="screen every site with MLIPs, DFT only the best")
    store: str = Field("embedded", description="'embedded' or a db_config/*.yaml file")
    launcher: Literal["local", "fireworks", "jobflow-remote"] = Field(
        "local", description="where `anodescreen submit` sends the campaign (`run` always runs here)")


    @field_validator("sac_loading")
    @classmethod
    def _loading(cls, value: list[int]) -> list[int]:
        if not value or any(n < 1 or n > 8 for n in value):
            raise AnodescreenError("sac_loading counts must be 1 to 8 atoms", "sac_loading")
        return sorted(set(value))

    @property
    def has_followups(self) -> bool:
        """Whether a stage after the relaxations is needed (NEB, charges, multi-atom SAC loading)."""
        return any(k in self.calculations for k in FOLLOWUPS) or (
            "sac_distortion" in self.calculations and max(self.sac_loading) > 1)

    @field_validator("compounds")
    @classmethod
    def _compounds(cls, value: list[str]) -> list[str]:
        from anodescreen.structures.compounds import COMPOUNDS

        for formula in value:
            if formula not in COMPOUNDS:
                raise AnodescreenError(f"no prototype for {formula!r} (have {', '.join(COMPOUNDS)})")
        return value

    @model_validator(mode="after")
    def _something_to_do(self) -> CampaignSpec:
        if not self.hosts and not self.compounds:
            raise AnodescreenError("a campaign needs hosts or compounds", "hosts")
        if self.compounds and "formation_energy" not in self.calculations:
            raise AnodescreenError("compounds are listed but formation_energy is not in calculations",
                                   "compounds")
        return self

    @model_validator(mode="after")
    def _charges_need_a_density(self) -> CampaignSpec:
        if "bader_charge" in self.calculations and self.engine.name not in ("cp2k", "vasp"):
            raise AnodescreenError(f"bader_charge needs a charge density: use engine cp2k or vasp "
                                   f"(engine {self.engine.name} writes none)", "calculations")
        return self

    @model_validator(mode="after")
    def _funnel_needs_dft(self) -> CampaignSpec:
        if self.funnel is not None and self.engine.name == "mlip":
            raise AnodescreenError("a funnel screens with MLIPs for a DFT engine: set engine.name to cp2k or vasp",
                                   "funnel")
        return self


def validation_message(exc: ValidationError) -> str:
    """One line naming the first offending field and the problem."""
    err = exc.errors()[0]
    loc, previous = [], None
    for part in err["loc"]:
        if not (isinstance(previous, int) and part in _FAMILIES):  # drop union tags
            loc.append(str(part))
        previous = part
    loc = ".".join(loc)
    cause = (err.get("ctx") or {}).get("error")
    msg = cause.message if isinstance(cause, AnodescreenError) else err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    return f"{loc}: {msg}" if loc else msg


def load_spec(path: str | Path) -> CampaignSpec:
    """Read and validate a campaign YAML file."""
    path = Path(path)
    data = load_yaml(path, "spec")
    if not isinstance(data, dict):
        raise AnodescreenError(f"{path} must hold a mapping of campaign fields", "spec")
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as exc:
        raise AnodescreenError(validation_message(exc)) from None
