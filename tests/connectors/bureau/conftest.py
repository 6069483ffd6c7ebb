"""Fixtures for the 应急管理局 register (Excel inbox) connector tests: shared ones in ../conftest.py."""
