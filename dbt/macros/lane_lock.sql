{#-
    The warning lane (edp.orchestration.warning_lane) builds the models between
    stg_weather__warnings and fct_warning in a dbt workspace of its own, so a
    warning never waits for the everyday build; the everyday build builds them
    too. Two builds of one model at once would collide on its __dbt_tmp and
    __dbt_backup relations (or, incremental, insert a row twice), so each of
    these models holds a session advisory lock on its own name from before its
    first statement until after the backup is dropped: pre_hook and post_hook
    outside the transaction (config in the model's yml). A build that fails
    between them keeps the lock until its dbt process ends, which is soon:
    the model's dependants are skipped.
-#}
{% macro lane_model_lock() -%}
select pg_advisory_lock({{ lane_lock_key() }})
{%- endmacro %}

{% macro lane_model_unlock() -%}
select pg_advisory_unlock({{ lane_lock_key() }})
{%- endmacro %}

{% macro lane_lock_key() -%}
hashtextextended('edp.lane_model:{{ this.schema }}.{{ this.identifier }}', 0)
{%- endmacro %}
