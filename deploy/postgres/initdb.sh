#!/bin/sh
# Run once by the postgres image when its data directory is new (/docker-entrypoint-initdb.d):
# creates the portal's owner and app roles (roles.sql; README, "Database roles"). An existing
# database is never touched by this: run roles.sql by hand there (README).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v database="$POSTGRES_DB" \
  -v owner="${MWB_OWNER_ROLE:-mwb_owner}" -v owner_password="$MWB_OWNER_PASSWORD" \
  -v app="${MWB_APP_ROLE:-mwb_app}" -v app_password="$MWB_APP_PASSWORD" \
  -f /mwb/roles.sql
