"""The dashboard: ``llmlab serve``, a local web app over the store (``llmlab[web]``).

Pages are server-rendered (Jinja2 + htmx); each has a JSON twin under ``/api`` with the
OpenAPI schema at ``/api/openapi.json``. Charts are drawn by uPlot, shipped in the package.
"""

from llmlab.web._app import create_app
from llmlab.web._serve import check_bind, serve

__all__ = ["check_bind", "create_app", "serve"]
