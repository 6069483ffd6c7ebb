-- Every name, alias and CAS number a chemical can be written with → the
-- chemical (危险化学品目录 2015 entry, else GB 18218-2018 表1 entry) and its
-- critical quantity Q and correction factor β. A key held by several entries
-- (盐酸 and 氯化氢(无水) share a CAS number; the 硝化纤维素 grades share one)
-- resolves to the catalogue entry first, then to the smallest Q (the safe side).
with

quantities as (
    select * from {{ ref('ref_gb18218_critical_quantities') }}
),

catalogue as (
    select * from {{ ref('ref_hazardous_chemicals') }}
),

entries as (
    select
        1 as origin_rank,
        catalogue_seq,
        chemical_name,
        gb18218_entry_code as entry_code,
        chemical_name || coalesce(';' || aliases, '') as names,
        cas_numbers
    from catalogue
    union all
    select
        2 as origin_rank,
        cast(null as integer) as catalogue_seq,
        chemical_name,
        entry_code,
        chemical_name || coalesce(';' || aliases, '') as names,
        cas_numbers
    from quantities
    where source_table = '表1'
),

keyed as (
    select
        entries.*,
        'name' as key_type,
        {{ chemical_name_key('k.name_text') }} as lookup_key
    from entries
    cross join lateral unnest(string_to_array(entries.names, ';')) as k (name_text)
    union all
    select
        entries.*,
        'cas' as key_type,
        trim(k.cas_text) as lookup_key
    from entries
    cross join lateral unnest(string_to_array(entries.cas_numbers, ';')) as k (cas_text)
),

ranked as (
    select
        keyed.key_type,
        keyed.lookup_key,
        keyed.catalogue_seq,
        keyed.chemical_name,
        keyed.entry_code as gb18218_entry_code,
        quantities.critical_quantity_t,
        quantities.beta,
        quantities.beta_basis,
        row_number() over (
            partition by keyed.key_type, keyed.lookup_key
            order by keyed.origin_rank, quantities.critical_quantity_t nulls last, keyed.entry_code
        ) as key_rank
    from keyed
    left join quantities on keyed.entry_code = quantities.entry_code
    where keyed.lookup_key <> ''
)

select
    key_type || ':' || lookup_key as chemical_key_id,
    key_type,
    lookup_key,
    catalogue_seq,
    chemical_name,
    gb18218_entry_code,
    critical_quantity_t,
    beta,
    beta_basis
from ranked
where key_rank = 1
