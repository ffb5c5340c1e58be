"""The campaign spec: a YAML file validated by pydantic; unknown keys are errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from anodescreen.core.plan import ALKALI_REFERENCES
from anodescreen.engines import AnyEngine, MLIPEngine
from anodescreen.errors import AnodescreenError, load_yaml
from anodescreen.hosts import FAMILIES
from anodescreen.properties import PROPERTIES
from anodescreen.structures.data import check_alkali


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _hosts_union():
    """The ``hosts`` entry type: one spec model per registered family, told apart by ``family``."""
    models = tuple(family.spec for family in FAMILIES.values())
    return Annotated[Union[models], Field(discriminator="family")]  # noqa: UP007 (a runtime tuple)


Hosts = _hosts_union()
#: one of the registered properties (anodescreen.properties)
Calculation = Literal[tuple(PROPERTIES)]


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


class HostSelection(_Strict):
    """Which hosts (host × alkali groups) go to DFT at all, by the screens' best binding energies
    (MLIP values against the alkali's first requested reference). A group goes if it passes a rule
    that is set, or the potentials disagree on its best site, or a flagged relaxation could hide it."""

    top_n: int | None = Field(None, ge=1, description="per alkali, the N groups with the most favourable best "
                                                      "energy by any one potential")
    window: tuple[float, float] | None = Field(
        None, description="[low, high] eV: groups whose best energy by any potential lies inside (lithiophilic, "
                          "but not so strongly bound that the metal cannot leave)")

    @model_validator(mode="after")
    def _a_rule(self) -> HostSelection:
        if self.top_n is None and self.window is None:
            raise AnodescreenError("host selection needs top_n and/or window", "funnel.hosts")
        if self.window is not None and self.window[0] >= self.window[1]:
            raise AnodescreenError(f"window {list(self.window)} must be [low, high] with low < high",
                                   "funnel.hosts.window")
        return self


#: how the funnel's DFT checks the candidates
Verify = Literal["relax", "single_point", "single_point_only"]


class FunnelSpec(_Strict):
    """Which potentials screen, how many sites each lets through, and how DFT verifies them."""

    screen: list[Literal["CHGNet", "SevenNet"]] = Field(["CHGNet", "SevenNet"], min_length=1)
    top_k: int = Field(2, ge=1, description="verify relax: best sites per potential sent to DFT")
    margin: float = Field(0.10, ge=0, description="verify relax: also every site within this of a potential's "
                                                  "best (eV)")
    verify: Verify = Field(
        "relax", description="relax: DFT relaxes the candidates; single_point: DFT single points on the MLIP "
                             "minima of the (wider) single-point candidates, then DFT relaxes the best relax_top "
                             "of them; single_point_only: the single points are the result (rows marked as "
                             "single points on MLIP geometries)")
    single_point_top_k: int = Field(4, ge=1, description="single-point tiers: best sites per potential")
    single_point_margin: float = Field(0.30, ge=0, description="single-point tiers: also every site within this "
                                                               "of a potential's best (eV)")
    relax_top: int = Field(1, ge=1, description="verify single_point: sites per group DFT relaxes, lowest DFT "
                                                "single point first")
    warm_start: Literal["lowest", "cold", "CHGNet", "SevenNet"] = Field(
        "lowest", description="DFT starts each site from: lowest, the MLIP minimum with the most favourable "
                              "energy over the potentials whose minimum is valid; a potential's name, its "
                              "minimum; cold, the built geometry. A site without a valid minimum starts cold")
    merge_minima: bool = Field(True, description="candidates that every potential relaxed into one minimum "
                                                 "(matching geometry, 2 meV) are verified once")
    hosts: HostSelection | None = Field(None, description="send only some hosts to DFT (the others keep their "
                                                          "MLIP rows)")
    fmax: float = Field(0.05, gt=0, description="MLIP force convergence (eV/Å)")
    max_steps: int = Field(300, gt=0)
    batch_size: int = Field(16, ge=1, description="screening relaxations per batched force evaluation (local "
                                                  "runs; the same minima as one at a time, 2× the throughput at "
                                                  "24 per batch on 2 cores: benchmarks/README.md)")
    anomalies: AnomalyRules = AnomalyRules()

    @model_validator(mode="after")
    def _warm_start_screens(self) -> FunnelSpec:
        if self.warm_start not in ("lowest", "cold") and self.warm_start not in self.screen:
            raise AnodescreenError(f"warm_start {self.warm_start} is not one of the screening potentials "
                                   f"{', '.join(self.screen)}", "funnel.warm_start")
        if self.verify != "relax" and self.warm_start == "cold":
            raise AnodescreenError(f"verify {self.verify} single-points the MLIP minima: warm_start cannot be cold",
                                   "funnel.warm_start")
        return self


class Adsorbate(_Strict):
    """An alkali adsorbate: one atom per cell (multilayer hosts set their own count)."""

    element: str
    count: Literal[1] = 1

    @field_validator("element")
    @classmethod
    def _alkali(cls, value: str) -> str:
        return check_alkali(value, "element")


class _CampaignFields(_Strict):
    """What to build, compute and store (the properties' own settings are added by :data:`CampaignSpec`)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    hosts: list[Hosts] = []
    adsorbates: list[Adsorbate] = [Adsorbate(element="Li")]
    calculations: list[Calculation] = Field(
        ["binding_energy", "intercalation_energy"],
        description="; ".join(f"{p.name}: {p.description}" for p in PROPERTIES.values()))
    references: list[Literal[ALKALI_REFERENCES]] = list(ALKALI_REFERENCES)
    engine: AnyEngine = MLIPEngine()
    funnel: FunnelSpec | None = Field(None, description="screen every site with MLIPs, DFT only the best")
    store: str = Field("embedded", description="'embedded' or a db_config/*.yaml file")
    launcher: Literal["local", "fireworks", "jobflow-remote"] = Field(
        "local", description="where `anodescreen submit` sends the campaign (`run` always runs here)")

    @property
    def properties(self) -> list:
        """The requested properties (anodescreen.properties), in registry order."""
        return [p for name, p in PROPERTIES.items() if name in self.calculations]

    @property
    def has_followups(self) -> bool:
        """Whether a stage after the relaxations is needed (NEB, charges, multi-atom SAC loading)."""
        return any(p.needs_followup(self) for p in self.properties)

    @model_validator(mode="after")
    def _something_to_do(self) -> CampaignSpec:
        if not self.hosts and not self.compounds:
            raise AnodescreenError("a campaign needs hosts or compounds", "hosts")
        if self.compounds and "formation_energy" not in self.calculations:
            raise AnodescreenError("compounds are listed but formation_energy is not in calculations",
                                   "compounds")
        return self

    @model_validator(mode="after")
    def _properties_can_run(self) -> CampaignSpec:
        for prop in self.properties:
            if prop.check is not None:
                prop.check(self)
        return self

    @model_validator(mode="after")
    def _funnel_needs_dft(self) -> CampaignSpec:
        if self.funnel is not None and self.engine.name == "mlip":
            raise AnodescreenError("a funnel screens with MLIPs for a DFT engine: set engine.name to cp2k, gpaw or vasp",
                                   "funnel")
        if self.funnel is not None and self.funnel.verify == "single_point_only" and self.has_followups:
            raise AnodescreenError("funnel verify single_point_only relaxes nothing at DFT, so NEB, charges and "
                                   "SAC loading have no DFT geometries: use verify single_point", "funnel.verify")
        return self


#: the campaign spec: its own fields and every registered property's settings (``neb``, ``sac_loading``,
#: ``compounds``, ...)
CampaignSpec = create_model("CampaignSpec", __base__=_CampaignFields, __module__=__name__,
                            **{name: field for p in PROPERTIES.values() for name, field in p.settings.items()})


def validation_message(exc: ValidationError) -> str:
    """One line naming the first offending field and the problem."""
    err = exc.errors()[0]
    loc, previous = [], None
    for part in err["loc"]:
        if not (isinstance(previous, int) and part in FAMILIES):  # drop union tags
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
