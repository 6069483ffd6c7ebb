{#-
    Incremental models recompute whole groups: in an incremental run, keep
    the rows whose `keys` a row of `relation` extracted after this model's
    watermark (the newest `watermark` in {{ this }}) less `lookback_hours`
    touched, so corrections and backlog uploads recompute old groups in
    full. `relation_keys` name the same keys in `relation` when they are
    spelt differently there (default: `keys`). Use inside
    {% if is_incremental() %}.
-#}
{% macro touched_since_watermark(keys, relation, extracted_at, watermark, lookback_hours, relation_keys=none) -%}
({{ keys | join(', ') }}) in (
    select {{ (relation_keys or keys) | join(', ') }}
    from {{ relation }}
    where {{ extracted_at }} > {{ watermark_since(watermark, lookback_hours) }}
)
{%- endmacro %}

{#-
    The same for a raw source read whole by its loader key: keep the rows of
    the keys (`_row_key`, the loader's NULL-safe hash of the dataset's
    primary key) that a raw row extracted after the watermark touched. Both
    sides are index lookups (raw's BRIN on _extracted_at, its btree on
    _row_key), where a tuple of key expressions such as (trim(stcd), tm)
    can only be matched by reading all of raw. The connectors strip padding
    before the load, so the loader's key groups the same versions as the
    staging model's trimmed key.
-#}
{% macro touched_row_keys(relation, watermark, lookback_hours) -%}
_row_key in (
    select _row_key
    from {{ relation }}
    where _extracted_at > {{ watermark_since(watermark, lookback_hours) }}
)
{%- endmacro %}

{#-
    The watermark less the lookback as a literal, read when the model is
    compiled for the run: with a literal the planner knows how few rows are
    that recent (from the column's statistics) and reads them by index,
    where a subquery's value is unknown at planning and estimated as a third
    of the table. Large models that call this index `watermark`.
-#}
{% macro watermark_since(watermark, lookback_hours) -%}
{%- set newest = '-infinity' -%}
{%- if execute and is_incremental() -%}
    {%- set found = run_query(
        "select coalesce(max(" ~ watermark ~ "), '-infinity')::text from " ~ this
    ).columns[0].values()[0] -%}
    {%- set newest = found -%}
{%- endif -%}
(timestamptz '{{ newest }}' - interval '{{ lookback_hours }} hours')
{%- endmacro %}

{#-
    A pre_hook for incremental models whose groups can vanish (a record
    whose newest version is a tombstone): delete the groups touched since
    the watermark (touched_since_watermark) before the model inserts what
    is left of them; delete+insert alone only replaces groups that still
    have rows. Renders nothing on a first build or a --full-refresh.
-#}
{% macro delete_touched(keys, relation, extracted_at, watermark, lookback_hours, relation_keys=none) -%}
{%- if is_incremental() -%}
delete from {{ this }}
where {{ touched_since_watermark(keys, relation, extracted_at, watermark, lookback_hours, relation_keys) }}
{%- endif -%}
{%- endmacro %}

{#-
    For models incremental by difference (the inputs are cheap to read in
    full, but rows change for reasons no extraction time shows: as_of, a
    dimension, a seed): in an incremental run, drop from the model's rows
    those already stored unchanged, so delete+insert rewrites only new and
    changed rows. Append after the model's final select; its columns must be
    in the stored table's order. Rows the model no longer yields at all need
    a pre_hook delete. Renders nothing on a first build or a --full-refresh.
-#}
{% macro except_stored_rows() -%}
{%- if is_incremental() -%}
except
select
    {%- for column in adapter.get_columns_in_relation(this) %}
    {{ adapter.quote(column.name) }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from {{ this }}
{%- endif -%}
{%- endmacro %}
