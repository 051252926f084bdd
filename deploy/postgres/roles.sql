-- The portal's two database roles, neither of them a superuser (README, "Database roles").
--
--   owner  owns the database, its schema and every table: only the migrations run as it
--          (the `migrate` service or Job), and `manage.py restore`.
--   app    what web, worker and beat connect as: reads and writes rows (SELECT, INSERT,
--          UPDATE, DELETE; sequences), and can change no table, create none, and make no role.
--
-- Run it as a superuser (the PostgreSQL container's bootstrap user, or your DBA) against the
-- portal's database, with the names and passwords as psql variables:
--
--   psql -v ON_ERROR_STOP=1 -d mwb -v database=mwb \
--        -v owner=mwb_owner -v owner_password="$DATABASE_OWNER_PASSWORD" \
--        -v app=mwb_app -v app_password="$DATABASE_APP_PASSWORD" -f roles.sql
--
-- Safe to run again (passwords are set anew), also on a database that was migrated as another
-- role: the owner takes over the existing tables and sequences, and the app is granted them.
\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I', :'owner')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
ALTER ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'owner_password';

SELECT format('CREATE ROLE %I', :'app')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
ALTER ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'app_password';

ALTER DATABASE :"database" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"database" TO :"app";

\connect :"database"
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";

-- Tables (with the sequences of their columns) and other sequences made by another role.
SELECT format('ALTER TABLE public.%I OWNER TO %I', tablename, :'owner')
FROM pg_tables WHERE schemaname = 'public' AND tableowner <> :'owner' \gexec
SELECT format('ALTER SEQUENCE public.%I OWNER TO %I', sequencename, :'owner')
FROM pg_sequences WHERE schemaname = 'public' AND sequenceowner <> :'owner' \gexec

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO :"app";
-- Tables that later migrations create.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"app";
