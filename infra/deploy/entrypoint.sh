#!/bin/sh
# Entrypoint of the platform image: `edp`, unless the command names a program.
#
#   docker run haicheng-edp ingest --all        -> edp ingest --all
#   docker run haicheng-edp airflow scheduler   -> airflow scheduler
#
# Programs run as given because the Airflow Helm chart starts its containers with
# `bash -c "exec airflow …"` and probes them with `/entrypoint airflow jobs check …`.
set -e
case "${1:-}" in
    "") exec edp --help ;;
    edp | airflow | celery | dbt | python | python3 | bash | sh | /*) exec "$@" ;;
    *) exec edp "$@" ;;
esac
