#!/usr/bin/env bash
# The CRM's database roles (docs/SECURITY.md#database-roles). PostgreSQL's image runs this
# once, as its superuser, when it creates the database (docker-compose.yml mounts it into
# /docker-entrypoint-initdb.d); it can be run again on a server that has the roles already
# (it then only sets their passwords): env POSTGRES_USER, POSTGRES_DB, CRM_DB_OWNER_PASSWORD,
# CRM_DB_PASSWORD, and PGHOST/PGPORT/PGPASSWORD for a server elsewhere.
#
#   crm_owner         owns the database and every object in it; `migrate` connects as it
#   crm_app           the API and the workers: rows only (SELECT, INSERT, UPDATE, DELETE,
#                     granted by `migrate` on every table it made), no DDL, and the ledger
#                     (customer_changes) is read and appended to, never changed
#   crm_ledger_prune  no login: UPDATE/DELETE on customer_changes, taken for one statement
#                     (SET LOCAL ROLE) by prune-ledger and the erase (Crm:Database:LedgerPruneRole)
set -euo pipefail

: "${CRM_DB_OWNER_PASSWORD:?set CRM_DB_OWNER_PASSWORD}"
: "${CRM_DB_PASSWORD:?set CRM_DB_PASSWORD}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-crm}" \
    -v owner_password="$CRM_DB_OWNER_PASSWORD" -v app_password="$CRM_DB_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE crm_owner' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_owner') \gexec
SELECT 'CREATE ROLE crm_app' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_app') \gexec
SELECT 'CREATE ROLE crm_ledger_prune' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_ledger_prune') \gexec

ALTER ROLE crm_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'owner_password';
-- NOINHERIT: crm_app holds crm_ledger_prune's rights only while it has SET ROLE to it.
ALTER ROLE crm_app LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'app_password';
ALTER ROLE crm_ledger_prune NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
GRANT crm_ledger_prune TO crm_app;

-- The owner creates the schema `hangfire` and the extension pg_trgm (a trusted one) in
-- `migrate`; the database's public schema belongs to its owner (PostgreSQL 15).
SELECT format('ALTER DATABASE %I OWNER TO crm_owner', current_database()) \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO crm_app', current_database()) \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
