"""Exception classes. Each inherits from `BiomechError` and from the matching builtin."""


class BiomechError(Exception):
    """Base class of every error biomech raises on purpose."""


class ModelError(BiomechError, ValueError):
    """An invalid model, subject, support, load or muscle setting passed to the Python API."""


class ScenarioError(BiomechError, ValueError):
    """An invalid scenario file: names the file, the key path, what is allowed."""


class ConvergenceError(BiomechError, RuntimeError):
    """Raised by `EquilibriumResult.raise_for_status()` when no valid posture was found."""
