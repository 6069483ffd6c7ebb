-- The warehouse's schemas: raw (as delivered), the dbt layers, the platform's own (audit, ops, sync)
-- and audit_work, where a check keeps the rows it validates for the length of one run.
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists ref;
create schema if not exists snapshots;
create schema if not exists audit;
create schema if not exists ops;
create schema if not exists sync;
create schema if not exists audit_work;
