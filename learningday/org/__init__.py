"""The people directory: read an org file (CSV or YAML), check it, and import it in one transaction.

`parse` turns a file into rows that remember their line numbers, `validate` finds every problem
in those rows at once, `plan` works out what would change, and `importer` writes it.
"""

from __future__ import annotations

from learningday.org.importer import ImportReport, import_org
from learningday.org.rows import OrgProblem, OrgRow

__all__ = ["ImportReport", "OrgProblem", "OrgRow", "import_org"]
