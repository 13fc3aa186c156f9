"""The one version string of fastsmce (pyproject.toml reads it: `dynamic = ["version"]`)."""

__version__ = "0.1.0"
