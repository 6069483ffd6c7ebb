#!/bin/bash
# Roles and databases of the Haicheng EDP on the compose PostgreSQL, made from the very URLs the
# services connect with (EDP_WAREHOUSE_URL, EDP_AIRFLOW_METADATA_URL, SUPERSET_DATABASE_URI), so
# they cannot disagree. The postgres image runs this once, on an empty data directory.
# Passwords must be URL-safe (letters, digits, - and _): they are taken from the URLs as written.
set -euo pipefail

create_role_and_database() {
    local url="$1" options="$2"
    local rest="${url#*://}"
    local userinfo="${rest%%@*}"
    local user="${userinfo%%:*}" password="${userinfo#*:}"
    local db="${rest##*/}"
    db="${db%%\?*}"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        --set=role="$user" --set=password="$password" --set=db="$db" --set=options="$options" <<'SQL'
select format('create role %I with login password %L %s', :'role', :'password', :'options')
where not exists (select from pg_roles where rolname = :'role') \gexec
select format('create database %I owner %I', :'db', :'role')
where not exists (select from pg_database where datname = :'db') \gexec
SQL
}

# The warehouse role creates the platform's schemas and Superset's read-only role (edp_reader).
create_role_and_database "$EDP_WAREHOUSE_URL" "createrole"
create_role_and_database "$EDP_AIRFLOW_METADATA_URL" ""
create_role_and_database "$SUPERSET_DATABASE_URI" ""

# PUBLIC may connect to (and make temp tables in) every database by default: the read-only edp_reader
# (and any later role) reaches only what it is granted; the owners keep their rights.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<'SQL'
select format('revoke connect, temporary on database %I from public', datname)
from pg_database where datallowconn and datname <> 'template1' \gexec
SQL
