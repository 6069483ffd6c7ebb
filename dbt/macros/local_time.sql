{#-
    海城市 local time. Days and hours are Asia/Shanghai days and hours, not
    UTC ones (the warehouse session may run in UTC): the time zone is named
    here only and every model goes through these macros. `timestamp` is a
    timestamptz column or a parenthesised expression.
-#}

{% macro local_time_zone() -%}
'Asia/Shanghai'
{%- endmacro %}

{#- The local day of a timestamp. -#}
{% macro local_date(timestamp) -%}
cast({{ timestamp }} at time zone {{ local_time_zone() }} as date)
{%- endmacro %}

{#- The local hour as YYYYMMDDHH24, for keys (event_id, hourly ids). -#}
{% macro local_hour_key(timestamp) -%}
to_char({{ timestamp }} at time zone {{ local_time_zone() }}, 'YYYYMMDDHH24')
{%- endmacro %}

{#- The local hour as 'YYYY-MM-DD HH时', for descriptions. -#}
{% macro local_hour_label(timestamp) -%}
to_char({{ timestamp }} at time zone {{ local_time_zone() }}, 'YYYY-MM-DD HH24"时"')
{%- endmacro %}

{#- The timestamp in UTC as ISO 8601 text (…T…Z; `microseconds` adds .US), for ids. -#}
{% macro utc_timestamp_text(timestamp, microseconds=false) -%}
to_char({{ timestamp }} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS{{ ".US" if microseconds }}"Z"')
{%- endmacro %}

{#-
    Whether the local month-day `mmdd` (text MMDD) falls in the period
    `begin`–`end` (MMDD, both inclusive), a period with begin > end wrapping
    past New Year (SL 323-2011 ST_RSVRFSR_B BGMD/EDMD).
-#}
{% macro mmdd_in_period(mmdd, begin, end) -%}
case
    when {{ begin }} <= {{ end }} then {{ mmdd }} between {{ begin }} and {{ end }}
    else {{ mmdd }} >= {{ begin }} or {{ mmdd }} <= {{ end }}
end
{%- endmacro %}
