{#-
  统一社会信用代码 (GB 32100-2015) in SQL: normalisation, the check character
  and why a code is invalid. GB 32100-2015 clause 4 (代码结构): 18 characters
  from the 31-character set 0-9 A-H J-N P-R T U W X Y (no I O S V Z);
  character 1 the registration authority code (登记管理部门代码) and 2 the
  organisation type code (机构类别代码), each a digit or a letter (N 农业,
  Y 其他, ...); 3-8 the registering authority's division code (GB/T 2260, six
  digits); 9-17 the subject identifier (GB 11714); 18 the check character over
  the first 17: C18 = charset[(31 - Σ value(Ci) × 3^(i-1) mod 31) mod 31].
  Mirrors edp.quality.uscc.problem (python-stdnum's check character; the
  validator tests/dbt/test_enterprise_marts.py compares these macros with).
-#}

{% macro enterprise_credit_code_charset() -%}
'0123456789ABCDEFGHJKLMNPQRTUWXY'
{%- endmacro %}

{#- Full-width → half-width (NFKC), upper case, spaces and hyphens removed (as stdnum's compact()). -#}
{% macro enterprise_normalize_credit_code(column) -%}
nullif(upper(regexp_replace(normalize({{ column }}, nfkc), '[\s\-]', '', 'g')), '')
{%- endmacro %}

{#- The expected check character of a normalised code (null unless its first 17 characters are all in the set). -#}
{% macro enterprise_credit_code_check_char(code) -%}
{%- set weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] -%}
case when {{ code }} ~ '^[0-9A-HJ-NP-RTUW-Y]{17}' then
    substr(
        {{ enterprise_credit_code_charset() }},
        (31 - (
            {%- for w in weights %}
            (strpos({{ enterprise_credit_code_charset() }}, substr({{ code }}, {{ loop.index }}, 1)) - 1) * {{ w }}
            {%- if not loop.last %} +{% endif %}
            {%- endfor %}
        ) % 31) % 31 + 1,
        1
    )
end
{%- endmacro %}

{#- Why a normalised code is not a valid 统一社会信用代码; null when it is valid. -#}
{% macro enterprise_credit_code_invalid_reason(code) -%}
case
    when {{ code }} is null then 'missing'
    when length({{ code }}) <> 18 then 'wrong_length'
    when {{ code }} !~ '^[0-9A-HJ-NP-RTUW-Y]{18}$' then 'invalid_character'
    when {{ code }} !~ '^..[0-9]{6}' then 'non_digit_division_code'
    when right({{ code }}, 1) <> {{ enterprise_credit_code_check_char(code) }} then 'check_character_mismatch'
end
{%- endmacro %}

{#- A readable (Chinese + English) explanation for a reason code; `code` gives the expected check character. -#}
{% macro enterprise_credit_code_reason_detail(reason, code) -%}
case {{ reason }}
    when 'missing' then '缺少统一社会信用代码 no credit code'
    when 'wrong_length' then '长度应为 18 位，实为 ' || length({{ code }}) || ' 位 (must be 18 characters, has '
        || length({{ code }}) || ')'
    when 'non_digit_division_code' then '第 3～8 位登记管理机关行政区划码应为数字 (characters 3-8, the division code, must be digits)'
    when 'invalid_character' then '含非法字符（不得含 I、O、S、V、Z 及其他符号） (character outside the GB 32100 set)'
    when 'check_character_mismatch' then '校验码应为 ' || {{ enterprise_credit_code_check_char(code) }} || '，实为 '
        || right({{ code }}, 1) || ' (check character should be ' || {{ enterprise_credit_code_check_char(code) }}
        || ', is ' || right({{ code }}, 1) || ')'
end
{%- endmacro %}
