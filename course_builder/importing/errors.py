"""The one exception of the importer: a problem that stops it, carried as a diagnostic."""

from __future__ import annotations

from ..diagnostics import Diagnostic


class ImportFailed(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(str(diagnostic.loc) + ": " + diagnostic.message)
        self.diagnostic = diagnostic
