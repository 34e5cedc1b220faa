"""Exception classes. Each inherits from `BiomechError` and from the matching builtin."""


class BiomechError(Exception):
    """Base class of every error biomech raises on purpose."""


class ModelError(BiomechError, ValueError):
    """An invalid model, subject, support, load or muscle setting passed to the Python API."""


class ScenarioError(BiomechError, ValueError):
    """Invalid scenario files: each problem names the file, the key path, what is allowed.

    ``problems`` holds one paragraph per problem (a file with several defects reports them all);
    ``str()`` is those paragraphs, one per line.
    """

    def __init__(self, *problems: str):
        super().__init__(*problems)
        self.problems = tuple(problems)

    def __str__(self) -> str:
        return "\n".join(self.problems)


class ConvergenceError(BiomechError, RuntimeError):
    """Raised by `EquilibriumResult.raise_for_status()` when no valid posture was found."""
