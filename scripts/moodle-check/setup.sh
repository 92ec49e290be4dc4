#!/usr/bin/env bash
# Sets up (or re-checks) a throwaway Moodle site on loopback to try course_builder's outputs on:
#   MOODLE_SRC=/path/to/moodle [MOODLE_CHECK=~/moodle-check] scripts/moodle-check/setup.sh
# MOODLE_SRC is a Moodle source tree you provide (4.5 or 5.x; this script never downloads Moodle).
# It is copied to $MOODLE_CHECK/moodle (hard links where possible), so the source itself is never written to.
# PostgreSQL: the Debian cluster, started if down; database and role "$MOODLE_DB" on 127.0.0.1.
# Web: `php -S 127.0.0.1:$MOODLE_PORT` (pid in $MOODLE_CHECK/php-server.pid). Verbs: $MOODLE_CHECK/bin/.
# Idempotent: a second run reuses the copy, database and server; a changed source is re-copied and upgraded.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"

: "${MOODLE_SRC:?set MOODLE_SRC to a Moodle source folder (the one holding version.php or public/version.php)}"
MOODLE_CHECK="${MOODLE_CHECK:-$HOME/moodle-check}"
MOODLE_PORT="${MOODLE_PORT:-8045}"
MOODLE_DB="${MOODLE_DB:-moodlecheck}"
MOODLE_DBPASS="${MOODLE_DBPASS:-moodlecheck}"
MOODLE_ADMINPASS="${MOODLE_ADMINPASS:-Admin-check-1}"

SRC="$(cd "$MOODLE_SRC" && pwd)"
[ -f "$SRC/version.php" ] || [ -f "$SRC/public/version.php" ] || { echo "moodle-check: $SRC/version.php not found: MOODLE_SRC must be the top folder of a Moodle source" >&2; exit 2; }
MOODLE_CHECK="$(realpath -m "$MOODLE_CHECK")"
REPO="$(cd "$HERE/../.." && pwd)"
case "$MOODLE_CHECK/" in "$REPO"/*) echo "moodle-check: MOODLE_CHECK must lie outside the repository ($REPO)" >&2; exit 2;; esac
mkdir -p "$MOODLE_CHECK"

# --- Debian packages: PHP with the extensions Moodle needs, and PostgreSQL
bash "$HERE/../ensure-debian-packages.sh" php-cli php-pgsql php-xml php-mbstring php-curl php-zip php-gd php-intl \
  php-soap postgresql

# Moodle 4.5+ refuses to install with PHP's default max_input_vars (1000); Debian's php.ini is left alone.
PHP=(php -d max_input_vars=5000)

# --- Moodle code: a copy of the source (5.1+ serves public/, older versions the top folder) -----------------
CODE="$MOODLE_CHECK/moodle"
srcversion="$SRC/version.php"; [ -f "$srcversion" ] || srcversion="$SRC/public/version.php"
stamp="$(md5sum < "$srcversion")"
if [ ! -f "$CODE/.moodle-check-source" ] || [ "$(cat "$CODE/.moodle-check-source")" != "$SRC $stamp" ]; then
  echo "moodle-check: copying $SRC to $CODE"
  rm -rf "$CODE.new"
  cp -al "$SRC" "$CODE.new" 2>/dev/null || { rm -rf "$CODE.new"; cp -a "$SRC" "$CODE.new"; }
  rm -f "$CODE.new/config.php"   # a site's own config.php must never point this copy at its database
  echo "$SRC $stamp" > "$CODE.new/.moodle-check-source"
  rm -rf "$CODE"; mv "$CODE.new" "$CODE"
fi
WEBROOT="$CODE"; [ -f "$CODE/public/version.php" ] && WEBROOT="$CODE/public"
CLI="$WEBROOT/admin/cli"; [ -d "$CLI" ] || CLI="$CODE/admin/cli"

# --- PostgreSQL on loopback -------------------------------------------------------------------------------
cluster="$(pg_lsclusters --no-header | sort -rn | head -1)"
[ -n "$cluster" ] || { echo "moodle-check: no PostgreSQL cluster (pg_lsclusters is empty); run pg_createcluster" >&2; exit 2; }
read -r pgver pgname pgport pgstatus _ <<< "$cluster"
[ "$pgstatus" = online ] || { echo "moodle-check: starting PostgreSQL $pgver/$pgname"; pg_ctlcluster "$pgver" "$pgname" start; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
psql_admin() { as_postgres psql -p "$pgport" -v ON_ERROR_STOP=1 -qtAX "$@"; }
if [ -z "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname='$MOODLE_DB'")" ]; then
  psql_admin -c "CREATE ROLE \"$MOODLE_DB\" LOGIN PASSWORD '$MOODLE_DBPASS'"
fi
if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname='$MOODLE_DB'")" ]; then
  psql_admin -c "CREATE DATABASE \"$MOODLE_DB\" OWNER \"$MOODLE_DB\" ENCODING 'UTF8' TEMPLATE template0"
fi

# --- config.php (written by us, loopback only, developer debugging so every notice shows) -----------------
mkdir -p "$MOODLE_CHECK/moodledata"
cat > "$CODE/config.php.new" <<PHP
<?php  // Written by course_builder scripts/moodle-check/setup.sh; rewritten on every run.
unset(\$CFG);
global \$CFG;
\$CFG = new stdClass();
\$CFG->dbtype    = 'pgsql';
\$CFG->dblibrary = 'native';
\$CFG->dbhost    = '127.0.0.1';
\$CFG->dbname    = '$MOODLE_DB';
\$CFG->dbuser    = '$MOODLE_DB';
\$CFG->dbpass    = '$MOODLE_DBPASS';
\$CFG->prefix    = 'mdl_';
\$CFG->dboptions = ['dbport' => $pgport];
\$CFG->wwwroot   = 'http://127.0.0.1:$MOODLE_PORT';
\$CFG->dataroot  = '$MOODLE_CHECK/moodledata';
\$CFG->admin     = 'admin';
\$CFG->directorypermissions = 02777;
\$CFG->debug = E_ALL;
\$CFG->debugdisplay = 1;
\$CFG->noemailever = true;
// Moodle 5.1+ keeps its code under public/ (config.php stays at the top).
require_once(__DIR__ . (is_file(__DIR__ . '/public/lib/setup.php') ? '/public' : '') . '/lib/setup.php');
PHP
mv "$CODE/config.php.new" "$CODE/config.php"

installed="$(PGPASSWORD="$MOODLE_DBPASS" psql -h 127.0.0.1 -p "$pgport" -U "$MOODLE_DB" -d "$MOODLE_DB" -qtAX \
  -c "SELECT 1 FROM information_schema.tables WHERE table_name='mdl_config'")"
if [ -z "$installed" ]; then
  echo "moodle-check: installing Moodle into database $MOODLE_DB (a few minutes)"
  "${PHP[@]}" "$CLI/install_database.php" --agree-license --lang=en --fullname="course_builder check site" \
    --shortname=check --adminuser=admin --adminpass="$MOODLE_ADMINPASS" --adminemail=admin@example.invalid
else
  "${PHP[@]}" "$CLI/upgrade.php" --non-interactive --allow-unstable >/dev/null
fi
contrib="$("${PHP[@]}" "$CLI/uninstall_plugins.php" --show-contrib 2>/dev/null | grep -v '^\s*$' || true)"
if [ -n "$contrib" ]; then   # the list is empty for a stock Moodle
  echo "moodle-check: warning: the source carries add-on plugins (results may differ from a stock Moodle):" >&2
  echo "$contrib" >&2
fi

# --- verbs ------------------------------------------------------------------------------------------------
mkdir -p "$MOODLE_CHECK/bin/php"
cp "$HERE"/php/*.php "$MOODLE_CHECK/bin/php/"
cp "$HERE/verb.sh" "$MOODLE_CHECK/bin/verb.sh"
for verb in restore-mbz import-questions export-questions add-scorm register-lti quiz-statistics; do
  printf '#!/usr/bin/env bash\nexec "$(dirname "$0")/verb.sh" %s "$@"\n' "$verb" > "$MOODLE_CHECK/bin/$verb"
done
printf 'MOODLE_CODE=%q\nMOODLE_WWWROOT=%q\n' "$CODE" "http://127.0.0.1:$MOODLE_PORT" > "$MOODLE_CHECK/bin/site.env"
chmod +x "$MOODLE_CHECK/bin/"*

# --- web server on loopback -------------------------------------------------------------------------------
pidfile="$MOODLE_CHECK/php-server.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "moodle-check: web server already running (pid $(cat "$pidfile"))"
else
  nohup "${PHP[@]}" -S "127.0.0.1:$MOODLE_PORT" -t "$WEBROOT" > "$MOODLE_CHECK/php-server.log" 2>&1 &
  echo $! > "$pidfile"
  echo "moodle-check: web server started (pid $!)"
fi
echo "moodle-check: ready: http://127.0.0.1:$MOODLE_PORT (admin / $MOODLE_ADMINPASS); verbs in $MOODLE_CHECK/bin"
echo "moodle-check: run the real-Moodle tests with: MOODLE_CHECK=$MOODLE_CHECK make test"
