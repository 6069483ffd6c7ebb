{#-
  危险化学品名称比较键 chemical-name matching key: full-width to half-width
  (NFKC: （ → (, ５ → 5), white space and brackets dropped, lower case (LPG →
  lpg). Used on both sides: the seeds' names and aliases, the register's text.
-#}

{% macro chemical_name_key(column) -%}
nullif(lower(regexp_replace(normalize({{ column }}, nfkc), '[\s()\[\]【】]+', '', 'g')), '')
{%- endmacro %}
