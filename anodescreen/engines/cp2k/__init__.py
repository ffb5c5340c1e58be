"""CP2K, split the way atomate2 splits a code: input set (:mod:`.inputs`), run and process control
(:mod:`.process`), output parsing (:mod:`.outputs`), and the engine over them (:mod:`.engine`)."""

from anodescreen.engines.cp2k.engine import Cp2kEngine
from anodescreen.engines.cp2k.inputs import Cp2kSettings, basis_and_potential, input_text
from anodescreen.engines.cp2k.outputs import Cp2kOutput, parse_output, parse_text
from anodescreen.engines.cp2k.process import cp2k_version, run_cp2k

__all__ = ["Cp2kEngine", "Cp2kOutput", "Cp2kSettings", "basis_and_potential", "cp2k_version", "input_text",
           "parse_output", "parse_text", "run_cp2k"]
