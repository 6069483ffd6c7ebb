{#-
    Incremental models recompute whole groups: in an incremental run, keep
    the rows whose `keys` a row of `relation` extracted after this model's
    watermark (the newest `watermark` in {{ this }}) less `lookback_hours`
    touched, so corrections and backlog uploads recompute old groups in
    full. Use inside {% if is_incremental() %}.
-#}
{% macro touched_since_watermark(keys, relation, extracted_at, watermark, lookback_hours) -%}
({{ keys | join(', ') }}) in (
    select {{ keys | join(', ') }}
    from {{ relation }}
    where {{ extracted_at }} > (
        select coalesce(max({{ watermark }}), '-infinity') from {{ this }}
    ) - interval '{{ lookback_hours }} hours'
)
{%- endmacro %}
