-- Warnings (chains) in force per 海城市 division and local day: a version (fct_warning
-- row) is in force from its effective time (else its issue time) until it
-- ended (updated / cancelled / expired) or, if still active, until the
-- as_of moment. A version naming the county (210381000000) covers every
-- division; one naming towns covers those towns.
with

in_force as (
    select
        lifecycled.*,
        roots.root_identifier,
        coalesce(lifecycled.ended_at, least(lifecycled.expires_at, {{ as_of() }}), {{ as_of() }}) as in_force_until
    from {{ ref('int_warnings_lifecycled') }} as lifecycled
    inner join {{ ref('int_warning_roots_resolved') }} as roots on lifecycled.identifier = roots.identifier
),

versions as (
    select
        *,
        {{ local_date('coalesce(effective_at, issued_at)') }} as first_day,
        {{ local_date("(in_force_until - interval '1 microsecond')") }} as last_day
    from in_force
),

divisions as (
    select code12 as division_code from {{ ref('ref_divisions') }}
),

spread as (
    select
        divisions.division_code,
        cast(days.risk_day as date) as risk_date,
        versions.root_identifier,
        versions.colour_rank
    from versions
    cross join lateral unnest(versions.haicheng_division_codes) as named (code)
    inner join divisions on named.code in (divisions.division_code, '210381000000')
    cross join lateral generate_series(versions.first_day, versions.last_day, interval '1 day') as days (risk_day)
)

select
    division_code || '-' || to_char(risk_date, 'YYYYMMDD') as warning_day_id,
    division_code,
    risk_date,
    cast(count(distinct root_identifier) as integer) as warning_count,
    cast(max(colour_rank) as integer) as worst_colour_rank
from spread
group by division_code, risk_date
