-- 主要危险化学品 (free text) → one row per chemical named, with its quantity
-- and its GB 18218-2018 critical quantity Q and correction factor β.
-- Items are separated by ； ; 、 / or a comma not followed by a digit (1,3-丁二烯
-- stays whole); an item is a name, optionally its CAS number (in brackets or
-- after "CAS") and a quantity in t or 吨: `液氯(7782-50-5) 5.2t`.
-- Quantity: the item's own; else 最大储存量(t) when the enterprise names one
-- chemical only; else none (not_itemised: S cannot be computed). A chemical is
-- identified by name or alias first, then by CAS number; one found nowhere is
-- kept (is_identified false), never dropped.
with

enterprises as (
    select
        credit_code,
        max_storage_t,
        normalize(main_chemicals, nfkc) as chemicals_text
    from {{ ref('stg_bureau__chemical_enterprises') }}
    where main_chemicals is not null
),

items as (
    select
        enterprises.credit_code,
        enterprises.max_storage_t,
        item.item_position,
        trim(item.item_text) as item_text
    from enterprises
    cross join
        lateral regexp_split_to_table(
            enterprises.chemicals_text, '[;、/]|,(?![0-9])'
        ) with ordinality as item (item_text, item_position)
    where trim(item.item_text) <> ''
),

parsed as (
    select
        credit_code,
        max_storage_t,
        item_text,
        row_number() over (partition by credit_code order by item_position) as item_no,
        count(*) over (partition by credit_code) as item_count,
        cast(substring(item_text from '([0-9]+(?:\.[0-9]+)?)\s*(?:t|T|吨)$') as numeric) as item_quantity_t,
        substring(item_text from '[0-9]{2,7}-[0-9]{2}-[0-9]') as cas_number,
        nullif(trim(regexp_replace(
            regexp_replace(item_text, '\s*[0-9]+(\.[0-9]+)?\s*(t|T|吨)$', ''),
            '\s*\(?\s*(CAS\s*(号|No\.?)?\s*:?\s*)?[0-9]{2,7}-[0-9]{2}-[0-9]\s*\)?', '', 'gi'
        )), '') as chemical_name_raw
    from items
),

keys as (
    select * from {{ ref('int_hazardous_chemical_keys_indexed') }}
),

matched as (
    select
        parsed.*,
        coalesce(by_name.key_type, by_cas.key_type) as matched_by,
        coalesce(by_name.catalogue_seq, by_cas.catalogue_seq) as catalogue_seq,
        coalesce(by_name.chemical_name, by_cas.chemical_name) as chemical_name,
        coalesce(by_name.gb18218_entry_code, by_cas.gb18218_entry_code) as gb18218_entry_code,
        case when by_name.key_type is not null then by_name.critical_quantity_t else by_cas.critical_quantity_t end
            as critical_quantity_t,
        case when by_name.key_type is not null then by_name.beta else by_cas.beta end as beta,
        case when by_name.key_type is not null then by_name.beta_basis else by_cas.beta_basis end as beta_basis
    from parsed
    left join keys as by_name
        on by_name.key_type = 'name' and {{ chemical_name_key('parsed.chemical_name_raw') }} = by_name.lookup_key
    left join keys as by_cas
        on by_cas.key_type = 'cas' and parsed.cas_number = by_cas.lookup_key
)

select
    credit_code || ':' || item_no as chemical_item_id,
    credit_code,
    item_no,
    item_count,
    item_text,
    chemical_name_raw,
    cas_number,
    matched_by is not null as is_identified,
    matched_by,
    catalogue_seq,
    chemical_name,
    gb18218_entry_code,
    critical_quantity_t,
    beta,
    beta_basis,
    coalesce(item_quantity_t, case when item_count = 1 then cast(max_storage_t as numeric) end) as quantity_t,
    case
        when item_quantity_t is not null then 'itemised'
        when item_count = 1 and max_storage_t is not null then 'max_storage'
        else 'not_itemised'
    end as quantity_basis
from matched
