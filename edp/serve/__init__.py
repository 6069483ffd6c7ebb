"""What analysts and auditors open: Apache Superset (``superset``) and the docs site
(``docs_site``: dbt docs, GX Data Docs, the auditor's quality report).
"""
