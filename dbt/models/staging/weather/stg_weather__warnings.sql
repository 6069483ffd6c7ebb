-- CAP warning messages, one row per identifier: the feed can repeat a
-- message and the same identifier is the same message, so the latest
-- extraction wins. Refused messages (rejection set) are quarantined by the
-- loader and never reach raw; any that did are dropped here. JSON lists
-- become text arrays.
with

source as (
    select * from {{ source('weather', 'warnings') }}
    where identifier is not null and rejection is null
),

latest as (
    {{ latest_row_per('source', ['identifier']) }}
),

renamed as (
    select
        identifier,
        profile,
        sender as sender_code,
        sender_name,
        sent_at,
        status as message_status,
        msg_type,
        scope,
        array(
            select jsonb_array_elements_text(
                case when jsonb_typeof("references") = 'array' then "references" else cast('[]' as jsonb) end
            )
        ) as referenced_identifiers,
        event_type_code,
        event_name,
        signal as signal_name,
        severity_colour,
        severity_raw,
        urgency,
        certainty,
        effective_at,
        onset_at,
        expires_at,
        headline,
        description,
        instruction,
        area_desc,
        array(
            select jsonb_array_elements_text(
                case when jsonb_typeof(division_codes) = 'array' then division_codes else cast('[]' as jsonb) end
            )
        ) as division_codes,
        polygon,
        raw_xml_sha256,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest
)

select * from renamed
