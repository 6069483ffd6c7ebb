{#-
    Which raw row is current. The loader appends, it never updates: every
    pull is a batch (_batch_id, _extracted_at), and a staging model keeps
    the rows that are current now. `relation` is usually the model's
    `source` CTE.
-#}

{#- Order by: the latest extraction first (ties: the later batch). -#}
{% macro latest_extraction_first(prefix='_') -%}
{{ prefix }}extracted_at desc, {{ prefix }}batch_id desc
{%- endmacro %}

{#- Order by: the newest updated_at first, then the latest extraction. -#}
{% macro newest_version_first(prefix='_') -%}
updated_at desc nulls last, {{ latest_extraction_first(prefix) }}
{%- endmacro %}

{#- One row per `keys` (of the rows `where` keeps): the first by `newest_first` (default: the latest extraction). -#}
{% macro latest_row_per(relation, keys, newest_first=none, where=none) -%}
select distinct on ({{ keys | join(', ') }}) *
from {{ relation }}
{% if where %}where {{ where }}
{% endif -%}
order by {{ keys | join(', ') }}, {{ newest_first or latest_extraction_first() }}
{%- endmacro %}

{#-
    Sources that append every version of a record (transport APIs): one row
    per `keys`, the newest version (newest_version_first); a record whose
    newest version is a tombstone (deleted) is dropped.
-#}
{% macro latest_live_version_per(relation, keys, where=none) -%}
select *
from (
    {{ latest_row_per(relation, keys, newest_version_first(), where) | indent(4) }}
) as newest
where not coalesce(deleted, false)
{%- endmacro %}

{#- Whether a row is of the latest batch: sources stored as whole snapshots. -#}
{% macro in_latest_batch(relation) -%}
_batch_id in (select batches._batch_id from {{ relation }} as batches order by {{ latest_extraction_first() }} limit 1)
{%- endmacro %}

{#-
    WFS layers (natural_resources): one row per `key` of the latest
    snapshot; a key listed twice keeps its first feature.
-#}
{% macro latest_snapshot_row_per(relation, key) -%}
select distinct on ({{ key }}) *
from {{ relation }}
where {{ in_latest_batch(relation) }} and {{ key }} is not null
order by {{ key }}, feature_id
{%- endmacro %}

{#-
    Bureau workbooks (registers): every upload replaces the register whole,
    so the current register is the newest workbook version; within it one
    row per `keys`, a key listed twice keeping its last row (the one staff
    typed last). Rows whose `required` keys (default: all) are null are
    dropped.
-#}
{% macro latest_register_rows(relation, keys, required=none) -%}
select distinct on ({{ keys | join(', ') }}) *
from {{ relation }}
where
    workbook_version in (
        select workbook_version
        from {{ relation }}
        order by uploaded_at desc nulls last, {{ latest_extraction_first() }}
        limit 1
    )
    {%- for key in required or keys %}
    and {{ key }} is not null
    {%- endfor %}
order by {{ keys | join(', ') }}, row_number desc nulls last
{%- endmacro %}

{#-
    SL 323 tables stored as whole snapshots (ST_STBPRP_B, ST_RVFCCH_B,
    ST_RSVRFSR_B): the rows of the latest batch with a station code (STCD
    not blank).
-#}
{% macro sl323_latest_snapshot(relation) -%}
select *
from {{ relation }}
where {{ in_latest_batch(relation) }} and nullif(trim(stcd), '') is not null
{%- endmacro %}

{#-
    SL 323 readings (ST_PPTN_R, ST_RIVER_R, ST_RSVR_R): one row per station
    (STCD trimmed) and TM, the latest extraction winning, with reading_id
    (station@TM in UTC), when any version of the reading was first and last
    extracted, and how many versions there are. The staging models are
    incremental: in an incremental run `relation` holds only the versions
    of the readings touched since the watermark (touched_since_watermark),
    so the window covers those, not all of raw's history.
-#}
{% macro sl323_latest_readings(relation) -%}
select distinct on (trim(stcd), tm)
    *,
    trim(stcd) || '@' || {{ utc_timestamp_text('tm') }} as reading_id,
    trim(stcd) as station_id,
    min(_extracted_at) over reading as first_extracted_at,
    max(_extracted_at) over reading as last_extracted_at,
    cast(count(*) over reading as integer) as version_count
from {{ relation }}
where nullif(trim(stcd), '') is not null and tm is not null
window reading as (partition by trim(stcd), tm)
order by trim(stcd), tm, {{ latest_extraction_first() }}
{%- endmacro %}

{#- The columns that say where a register row came from: file, workbook version and row, load batch. -#}
{% macro register_row_origin_columns() -%}
source_file,
workbook_version,
uploaded_at,
row_number as source_row_number,
_batch_id as batch_id,
_extracted_at as extracted_at
{%- endmacro %}
