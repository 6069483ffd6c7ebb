-- Source records whose 统一社会信用代码 is not valid (GB 32100): missing,
-- wrong length, a character outside the code's set, a non-digit division code
-- (characters 3-8; 1-2 may be letters, GB 32100-2015 clause 4) or a
-- wrong check character. They never reach dim_enterprise; when the name they
-- carry belongs to exactly one valid enterprise it is suggested.
with

invalid as (
    select * from {{ ref('int_enterprise_mentions_unioned') }}
    where not is_code_valid
)

select
    invalid.mention_id as invalid_code_id,
    invalid.source,
    invalid.source_key,
    invalid.credit_code_raw,
    invalid.credit_code as credit_code_normalised,
    invalid.invalid_reason as reason,
    {{ enterprise_credit_code_reason_detail('invalid.invalid_reason', 'invalid.credit_code') }} as reason_detail,
    invalid.enterprise_name,
    names.enterprise_id as suggested_enterprise_id
from invalid
left join {{ ref('int_enterprise_names_indexed') }} as names on invalid.name_key = names.name_key
