"""应急管理局 the bureau's own registers: Excel workbooks dropped in an inbox.

``registers`` declares each register's sheet and columns, ``workbook`` reads a
sheet safely, ``values`` normalises cell values, ``source`` reads the inbox.
"""

from connectors.bureau.source import DATASETS, BureauSource, create

__all__ = ["DATASETS", "BureauSource", "create"]
