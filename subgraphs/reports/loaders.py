"""Reports' dataloaders: one statement per kind of row per request.

Others add their loaders below (additively).
"""

from __future__ import annotations

from subgraphs.kit.loaders import ByIdLoader
from subgraphs.reports import models


class TemplateByIdLoader(ByIdLoader[models.ReportTemplate]):
    model = models.ReportTemplate
