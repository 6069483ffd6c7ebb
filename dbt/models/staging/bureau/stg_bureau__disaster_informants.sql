-- 灾害信息员台账: the rows of the newest workbook version (each upload is a full
-- replacement of the register), one per village and post; a post listed twice
-- keeps its last row. post_code is the post as written, NFKC-normalised
-- (full-width Ａ made plain), spaces and 岗 removed, upper-cased: A or B
-- (anything else stays as written and is not counted as a post).
with

source as (
    select * from {{ source('bureau', 'disaster_informants') }}
),

latest_rows as (
    {{ latest_register_rows('source', ['village_code', 'post']) }}
),

renamed as (
    select
        village_code || '|' || post as informant_post_id,
        village_code,
        nullif(trim(village_name), '') as village_name,
        post,
        upper(replace(replace(normalize(post, nfkc), ' ', ''), '岗', '')) as post_code,
        town_code,
        started_date,
        trained_date,
        informant_pseudonym,
        informant_masked,
        phone_pseudonym,
        phone_masked,
        {{ register_row_origin_columns() }}
    from latest_rows
)

select * from renamed
