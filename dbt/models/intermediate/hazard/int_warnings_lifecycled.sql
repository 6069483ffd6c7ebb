-- The lifecycle of every warning version (an Alert or Update message with
-- CAP status Actual, sent by the as_of moment, macro as_of): it ends
-- at the earliest later Update or Cancel that names it in <references>
-- (status updated / cancelled, superseded_by that message) unless it had
-- expired before (expired); otherwise it is active. Exercise/Test messages
-- and messages sent after as_of are left out. Cancel messages are not
-- versions: they only end one.
-- colour_rank comes from the colour the message carries (CAP severity
-- colour, GB/T 35965.1 / 中国气象局令第16号: Blue IV 1, Yellow III 2,
-- Orange II 3, Red I 4), whatever the event type: a warning outside the 14
-- signals of ref_warning_signals (11B20 雷雨大风, 11B25 森林火险, 11A51 山洪,
-- a red 霾, …) ranks like any other. ref_warning_signals only names the
-- signal; a type/colour pair outside it keeps its rank and is counted in
-- int_hazard__unmapped_codes.
with

messages as (
    select * from {{ ref('stg_weather__warnings') }}
    where message_status = 'Actual' and sent_at <= {{ as_of() }}
),

references_made as (
    select
        referencing.identifier as referencing_identifier,
        referencing.msg_type as referencing_msg_type,
        referencing.sent_at as referencing_sent_at,
        referenced.identifier as referenced_identifier
    from messages as referencing
    cross join lateral unnest(referencing.referenced_identifiers) as named (identifier)
    inner join messages as referenced
        on named.identifier = referenced.identifier and referencing.sent_at >= referenced.sent_at
    where referencing.msg_type in ('Update', 'Cancel') and referencing.identifier <> referenced.identifier
),

endings as (
    select distinct on (referenced_identifier) *
    from references_made
    order by referenced_identifier, referencing_sent_at, referencing_identifier
),

versions as (
    select
        messages.*,
        endings.referencing_identifier,
        endings.referencing_msg_type,
        endings.referencing_sent_at,
        endings.referencing_sent_at is not null
        and (messages.expires_at is null or endings.referencing_sent_at < messages.expires_at) as is_ended_by_message
    from messages
    left join endings on messages.identifier = endings.referenced_identifier
    where messages.msg_type in ('Alert', 'Update')
)

select
    versions.identifier,
    versions.msg_type,
    versions.sender_code,
    versions.sender_name,
    versions.event_type_code,
    coalesce(signals.signal_name, versions.signal_name) as signal_name,
    versions.severity_colour,
    signals.signal_colour_id,
    case versions.severity_colour
        when 'Blue' then 1
        when 'Yellow' then 2
        when 'Orange' then 3
        when 'Red' then 4
        else 0
    end as colour_rank,
    versions.sent_at as issued_at,
    versions.effective_at,
    versions.expires_at,
    case
        when versions.is_ended_by_message and versions.referencing_msg_type = 'Update' then 'updated'
        when versions.is_ended_by_message then 'cancelled'
        when versions.expires_at <= {{ as_of() }} then 'expired'
        else 'active'
    end as status,
    case when versions.is_ended_by_message then versions.referencing_identifier end as superseded_by,
    case
        when versions.is_ended_by_message then versions.referencing_sent_at
        when versions.expires_at <= {{ as_of() }} then versions.expires_at
    end as ended_at,
    versions.referenced_identifiers,
    versions.division_codes,
    array(
        select named.code
        from unnest(versions.division_codes) as named (code)
        where named.code like '210381%'
    ) as haicheng_division_codes,
    versions.headline,
    versions.area_desc,
    versions.profile
from versions
left join {{ ref('ref_warning_signals') }} as signals
    on versions.event_type_code = signals.event_type_code and versions.severity_colour = signals.colour
