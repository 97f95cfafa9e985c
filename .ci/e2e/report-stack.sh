# shellcheck shell=bash
# Sourced library for `pe-analytics report` tests: a real PuppetDB 7.12 (Debian) on a private
# PostgreSQL cluster, optionally a real puppetserver 7.9 storing facts in it, and real agent
# runs with per-agent OS/version facts. Follows shared/reference/puppet-stack.md §4 and
# Appendix A, on its own ports so it can run beside the e2e stack. Run as root.
#
#   source .ci/e2e/report-stack.sh
#   rpt_init /tmp/rpt            # ROOT; installs packages when missing
#   rpt_ca                       # CA + server cert (puppet.test, SANs localhost/127.0.0.1)
#   rpt_start_pdb                # PostgreSQL + PuppetDB (background)
#   rpt_start_server             # puppetserver with the PuppetDB terminus (background)
#   rpt_wait                     # until both answer
#   rpt_agent NAME OS RELEASE PUPPETVERSION [AIO_VERSION]   # one real `puppet agent -t`
#   rpt_wait_nodes N             # until PuppetDB counts N active nodes
#   rpt_stop                     # (also on EXIT)
#
# Ports (override before rpt_init): RPT_PG_PORT 55442, RPT_PDB_PORT 28081 (TLS),
# RPT_PDB_HTTP 28080 (plain, 127.0.0.1 only; used for commands), RPT_SERVER_PORT 28140.
# RPT_PDB_THREADS (1): PuppetDB's command-processing threads; RPT_PDB_HEAP, RPT_SERVER_HEAP.

RPT_PG_PORT=${RPT_PG_PORT:-55442}
RPT_PDB_PORT=${RPT_PDB_PORT:-28081}
RPT_PDB_HTTP=${RPT_PDB_HTTP:-28080}
RPT_SERVER_PORT=${RPT_SERVER_PORT:-28140}
RPT_PIDS=()

rpt_log() { echo "[report-stack $(date +%T)] $*" >&2; }
rpt_now() { date +%s.%N; }
rpt_since() { awk -v a="$1" -v b="$(rpt_now)" 'BEGIN { printf "%.1f", b - a }'; }

rpt_init() {
  RPT_ROOT=$1
  local pkgs="puppetdb puppet-terminus-puppetdb dbconfig-no-thanks puppetserver puppet-agent postgresql curl python3"
  local missing="" p
  for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    rpt_log "installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends $missing >/dev/null
  fi
  rm -rf "$RPT_ROOT"
  mkdir -p "$RPT_ROOT"/{etc,code/environments/production/manifests,server/conf.d,server/services.d,var,run,log,facterlib,agents}
  trap rpt_stop EXIT
  # A custom fact that lets each test agent report its own OS and Puppet version
  # (Facter's FACTER_x variables only set flat facts; `os` is structured).
  cat > "$RPT_ROOT/facterlib/rpt_overrides.rb" <<'RUBY'
if ENV['RPT_OS_NAME']
  Facter.add(:os) do
    has_weight 100_000
    setcode do
      rel = ENV['RPT_OS_RELEASE'].to_s
      { 'name' => ENV['RPT_OS_NAME'], 'family' => ENV['RPT_OS_NAME'],
        'release' => { 'full' => rel, 'major' => rel.split('.').first } }
    end
  end
end
if ENV['RPT_PUPPETVERSION']
  Facter.add(:puppetversion) do
    has_weight 100_000
    setcode { ENV['RPT_PUPPETVERSION'] }
  end
end
RUBY
}

rpt_ca() {
  local t; t=$(rpt_now)
  cat > "$RPT_ROOT/etc/puppet.conf" <<CONF
[main]
certname = puppet.test
server = localhost
masterport = $RPT_SERVER_PORT
ssldir = $RPT_ROOT/ssl
vardir = $RPT_ROOT/var
logdir = $RPT_ROOT/log
rundir = $RPT_ROOT/run
codedir = $RPT_ROOT/code
[server]
cadir = $RPT_ROOT/ca
autosign = true
reports = none
storeconfigs = true
storeconfigs_backend = puppetdb
CONF
  puppetserver ca setup --config "$RPT_ROOT/etc/puppet.conf" --certname puppet.test \
    --subject-alt-names puppet.test,localhost,IP:127.0.0.1 >/dev/null
  # pe-analytics connects with the server's own certificate, as on a PE primary (PuppetDB
  # accepts any certificate signed by its CA).
  RPT_CA=$RPT_ROOT/ssl/certs/ca.pem
  RPT_CERT=$RPT_ROOT/ssl/certs/puppet.test.pem
  RPT_KEY=$RPT_ROOT/ssl/private_keys/puppet.test.pem
  rpt_log "CA ready in $(rpt_since "$t")s"
}

rpt_start_pdb() {
  local t R=$RPT_ROOT; t=$(rpt_now)
  mkdir -p "$R/pg" "$R/pgrun" "$R/pdb/conf.d" "$R/pdb/var"
  chown postgres:postgres "$R/pg" "$R/pgrun"; chmod 700 "$R/pg"
  runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$R/pg" -A trust -U postgres >/dev/null
  runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$R/pg" -l "$R/pgrun/pg.log" \
    -o "-p $RPT_PG_PORT -k $R/pgrun -c listen_addresses=127.0.0.1" -w start >/dev/null
  psql -q -h 127.0.0.1 -p "$RPT_PG_PORT" -U postgres -c "create role puppetdb login password 'puppetdb'" \
    -c "create database puppetdb owner puppetdb encoding 'utf8' template template0"
  psql -q -h 127.0.0.1 -p "$RPT_PG_PORT" -U postgres -d puppetdb -c "create extension pg_trgm"
  rpt_log "postgres ready in $(rpt_since "$t")s"
  cp /etc/puppetdb/bootstrap.cfg "$R/pdb/"; cp /etc/puppetdb/conf.d/auth.conf "$R/pdb/conf.d/"
  sed "s#/var/log/puppetdb#$R/log#g" /etc/puppetdb/logback.xml > "$R/pdb/logback.xml"
  # Access log: one line per request, to count the report's queries.
  cat > "$R/pdb/request-logging.xml" <<XML
<configuration debug="false">
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$R/log/puppetdb-access.log</file>
    <encoder><pattern>%h %t "%r" %s %b %D</pattern></encoder>
  </appender>
  <appender-ref ref="FILE" />
</configuration>
XML
  printf '[global]\nvardir = %s\nlogging-config = %s\n[command-processing]\nthreads = %s\n' \
    "$R/pdb/var" "$R/pdb/logback.xml" "${RPT_PDB_THREADS:-1}" > "$R/pdb/conf.d/config.ini"
  printf '[database]\nsubname = //127.0.0.1:%s/puppetdb\nusername = puppetdb\npassword = puppetdb\n' \
    "$RPT_PG_PORT" > "$R/pdb/conf.d/database.ini"
  cat > "$R/pdb/conf.d/jetty.ini" <<INI
[jetty]
host = 127.0.0.1
port = $RPT_PDB_HTTP
ssl-host = 127.0.0.1
ssl-port = $RPT_PDB_PORT
ssl-key = $R/ssl/private_keys/puppet.test.pem
ssl-cert = $R/ssl/certs/puppet.test.pem
ssl-ca-cert = $R/ssl/certs/ca.pem
access-log-config = $R/pdb/request-logging.xml
INI
  RPT_PDB_T0=$(rpt_now)
  # shellcheck disable=SC2086
  setsid /usr/bin/java ${RPT_PDB_HEAP:--Xmx512m} -Djava.security.egd=/dev/urandom \
    -cp /usr/share/puppetdb/puppetdb.jar clojure.main -m puppetlabs.puppetdb.core services \
    --config "$R/pdb/conf.d" --bootstrap-config "$R/pdb/bootstrap.cfg" \
    > "$R/log/puppetdb.stdout" 2>&1 < /dev/null &
  RPT_PDB_PID=$!; RPT_PIDS+=("$RPT_PDB_PID")
  RPT_PDB_URL=https://localhost:$RPT_PDB_PORT
}

rpt_start_server() {
  local R=$RPT_ROOT
  cp /etc/puppet/puppetserver/services.d/* "$R/server/services.d/"
  cp /etc/puppet/puppetserver/conf.d/{auth.conf,web-routes.conf,metrics.conf} "$R/server/conf.d/"
  sed "s#/var/log/puppetserver#$R/log#g" /etc/puppet/puppetserver/logback.xml > "$R/server/logback.xml"
  sed "s#/var/log/puppetserver#$R/log#g" /etc/puppet/puppetserver/request-logging.xml > "$R/server/request-logging.xml"
  echo "global: { logging-config: $R/server/logback.xml }" > "$R/server/conf.d/global.conf"
  echo "certificate-authority: { }" > "$R/server/conf.d/ca.conf"
  echo "webserver: { access-log-config: $R/server/request-logging.xml, client-auth: want, ssl-host: 127.0.0.1, ssl-port: $RPT_SERVER_PORT }" \
    > "$R/server/conf.d/webserver.conf"
  cat > "$R/server/conf.d/puppetserver.conf" <<HOCON
jruby-puppet: {
  ruby-load-path: [/usr/lib/puppetserver/ruby/vendor_ruby]
  gem-home: /var/lib/puppetserver/jruby-gems
  gem-path: [\${jruby-puppet.gem-home}, "/usr/lib/puppetserver/vendored-jruby-gems"]
  server-conf-dir: $R/etc
  server-code-dir: $R/code
  server-var-dir: $R/var
  server-run-dir: $R/run
  server-log-dir: $R/log
  max-active-instances: 1
}
http-client: { }
profiler: { }
HOCON
  : > "$R/code/environments/production/manifests/site.pp"
  printf '[main]\nserver_urls = https://localhost:%s\nsoft_write_failure = false\n' "$RPT_PDB_PORT" > "$R/etc/puppetdb.conf"
  printf -- '---\nserver:\n  facts:\n    terminus: puppetdb\n    cache: json\n' > "$R/etc/routes.yaml"
  RPT_SERVER_T0=$(rpt_now)
  # shellcheck disable=SC2086
  setsid /usr/bin/java ${RPT_SERVER_HEAP:--Xms256m -Xmx768m} \
    -Djruby.logger.class=com.puppetlabs.jruby_utils.jruby.Slf4jLogger \
    -Djruby.lib=/usr/share/jruby/lib -XX:+CrashOnOutOfMemoryError \
    -jar /usr/share/puppetserver/puppetserver.jar \
    --config "$R/server/conf.d" --bootstrap-config "$R/server/services.d" \
    > "$R/log/puppetserver.stdout" 2>&1 < /dev/null &
  RPT_SERVER_PID=$!; RPT_PIDS+=("$RPT_SERVER_PID")
}

# rpt_wait_url URL PID NAME T0
rpt_wait_url() {
  local i
  for i in $(seq 1 400); do
    curl -sfk --max-time 2 "$1" 2>/dev/null | grep -qx running && break
    kill -0 "$2" 2>/dev/null || { rpt_log "$3 died"; tail -40 "$RPT_ROOT/log/$3.log" "$RPT_ROOT/log/$3.stdout" >&2; return 1; }
    sleep 1
  done
  curl -sfk --max-time 5 "$1" | grep -qx running || { rpt_log "$3 not ready"; return 1; }
  rpt_log "$3 ready in $(rpt_since "$4")s"
}

rpt_wait() {
  if [ -n "${RPT_PDB_PID:-}" ]; then
    rpt_wait_url "http://127.0.0.1:$RPT_PDB_HTTP/status/v1/simple" "$RPT_PDB_PID" puppetdb "$RPT_PDB_T0" || return 1
    RPT_PDB_READY_SECS=$(rpt_since "$RPT_PDB_T0")
  fi
  if [ -n "${RPT_SERVER_PID:-}" ]; then
    rpt_wait_url "https://127.0.0.1:$RPT_SERVER_PORT/status/v1/simple" "$RPT_SERVER_PID" puppetserver "$RPT_SERVER_T0" || return 1
  fi
}

# rpt_agent CERTNAME OS_NAME OS_RELEASE PUPPETVERSION [AIO_AGENT_VERSION]
rpt_agent() {
  local name=$1 d=$RPT_ROOT/agents/$1 rc=0 t; t=$(rpt_now)
  mkdir -p "$d/etc"
  cat > "$d/etc/puppet.conf" <<CONF
[main]
certname = $name
server = localhost
masterport = $RPT_SERVER_PORT
ssldir = $d/ssl
vardir = $d/var
rundir = $d/run
logdir = $d/log
codedir = $d/code
[agent]
report = false
usecacheonfailure = false
http_keepalive_timeout = 0
CONF
  env RPT_OS_NAME="$2" RPT_OS_RELEASE="$3" RPT_PUPPETVERSION="$4" FACTERLIB="$RPT_ROOT/facterlib" \
    ${5:+FACTER_aio_agent_version=$5} \
    puppet agent -t --confdir "$d/etc" > "$d/agent.log" 2>&1 || rc=$?
  case $rc in
    0|2) rpt_log "agent $name ($2 $3, puppet $4${5:+, aio $5}) ran in $(rpt_since "$t")s" ;;
    *) rpt_log "agent $name failed (rc $rc)"; grep -v Facter "$d/agent.log" | tail -20 >&2; return 1 ;;
  esac
}

# rpt_pdb_query ENDPOINT AST: over the plain port (test set-up only; pe-analytics uses TLS).
rpt_pdb_query() {
  curl -sf -G "http://127.0.0.1:$RPT_PDB_HTTP/pdb/query/v4/$1" --data-urlencode "query=$2"
}

# rpt_wait_nodes N [TIMEOUT_SECS]: until PuppetDB counts N active nodes.
rpt_wait_nodes() {
  local want=$1 limit=${2:-120} i got=
  for i in $(seq 1 "$limit"); do
    got=$(rpt_pdb_query nodes '["extract",[["function","count"]],["~","certname",".*"]]' \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["count"])' 2>/dev/null || true)
    [ "$got" = "$want" ] && return 0
    sleep 1
  done
  rpt_log "PuppetDB has ${got:-?} active nodes, not $want"; return 1
}

rpt_stop() {
  set +e
  local p
  for p in "${RPT_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${RPT_PIDS[@]}"; do for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done; done
  RPT_PIDS=()
  if [ -n "${RPT_ROOT:-}" ] && [ -f "$RPT_ROOT/pg/postmaster.pid" ]; then
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$RPT_ROOT/pg" -m fast -w stop >/dev/null
  fi
}
