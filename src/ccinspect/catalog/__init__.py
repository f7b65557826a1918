"""The regulation as versioned data: frameworks, requirements, tier schedule and focus points."""

from .loader import Catalog, CatalogError, FrameworkVersion, Requirement, load_catalog

__all__ = ["Catalog", "CatalogError", "FrameworkVersion", "Requirement", "load_catalog"]
