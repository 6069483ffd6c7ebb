{#-
  企业名称规范化 enterprise-name normalisation.

  enterprise_clean_name: the display form — full-width letters, digits and
  brackets to half-width (NFKC: （ → (, Ａ → A, １ → 1, U+3000 → space),
  white space removed (Chinese names carry none) and trimmed.

  enterprise_name_key: the matching form used to decide whether two sources
  name the same enterprise alike — the clean name with 有限责任公司 and
  有限公司 treated as one (有限责任公司 → 有限公司), brackets and the
  middle dot dropped.
-#}

{% macro enterprise_clean_name(column) -%}
nullif(regexp_replace(normalize({{ column }}, nfkc), '\s+', '', 'g'), '')
{%- endmacro %}

{% macro enterprise_name_key(column) -%}
nullif(
    regexp_replace(
        replace({{ enterprise_clean_name(column) }}, '有限责任公司', '有限公司'),
        '[()（）\[\]【】·・]', '', 'g'
    ),
    ''
)
{%- endmacro %}
