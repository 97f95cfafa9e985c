# shellcheck shell=bash
# Real Puppet stack for end-to-end tests: Debian's puppetserver 7.9 and puppet agent 7.23,
# an ENC that asks pe-sim's classifier, pe-sim whose orchestrator runs real agents, and
# (optionally) PuppetDB 7.12 on a private PostgreSQL cluster. Everything lives under
# $E2E_ROOT; nothing in /etc/puppet is changed. Run as root. Source it, then:
#
#   e2e_init                       set the variables below, install the cleanup trap
#   e2e_install                    apt-get the packages (skipped when already installed);
#                                  finish it before any JVM starts (a JDK upgrade under a
#                                  running server breaks its ENC exec)
#   e2e_layout                     config tree, module fixtures, ENC, agent wrapper
#   e2e_ca                         offline CA + server certificate (puppetserver ca setup)
#   e2e_setup_puppetdb             optional: PostgreSQL + PuppetDB started, server wired
#                                  to it (call before e2e_start_server; E2E_WITH_PUPPETDB=1
#                                  also installs its packages in e2e_install)
#   e2e_start_server               start puppetserver, wait until it answers "running"
#   e2e_wait_puppetdb              wait until PuppetDB answers "running"
#   e2e_pdb_wait_report NAME EPOCH wait until PuppetDB holds a report of NAME made after EPOCH
#   e2e_stop_server                stop puppetserver (SIGTERM, by PID)
#   e2e_add_node NAME [FACT=VAL…]  an agent node: own confdir/certname, a stand-in
#                                  /etc/puppetlabs ($E2E_ROOT/nodes/NAME/etc/puppetlabs)
#                                  and fact overrides, core and structured ones included;
#                                  VAL is JSON when it parses as JSON, else a string, e.g.
#                                  e2e_add_node rhel7.test 'os={"family":"RedHat","name":"CentOS","release":{"major":"7","full":"7.9.2009"}}' kernel=Linux
#   e2e_run_agent NAME [ARGS…]     one `puppet agent -t` for the node (rc 0/2 = ok);
#                                  output in $E2E_LOG/agent-NAME-<n>.log
#   e2e_start_sim [PE_SIM_ARGS…]   start pe-sim (fixed ports, --agent-command = the agent
#                                  wrapper) and export SIM_* (URLs, CA, token file path)
#   e2e_stop_sim                   stop pe-sim (by PID)
#   e2e_node_dir NAME              the node's directory; its last run's report and summary
#                                  are <dir>/var/state/last_run_report.yaml and
#                                  <dir>/var/public/last_run_summary.yaml
#   e2e_last_run NAME              epoch of the node's last run (from last_run_summary)
#   e2e_cleanup                    stop everything started (the EXIT trap calls it)
#   e2e_track PID                  add a process to what the cleanup stops
#   e2e_check_ports PORT…          fail when a port is already taken
#
# Variables (override in the environment before e2e_init):
#   E2E_ROOT (/tmp/pe-e2e)          everything: config, logs, nodes, pe-sim state
#   PUPPET_PORT (18140)             puppetserver, 127.0.0.1
#   SIM_PORT (14433), SIM_ORCH_PORT (18143)   pe-sim's console and orchestrator ports
#   PDB_PORT (18081), PDB_HTTP_PORT (18080), PG_PORT (55432)   PuppetDB (TLS, plain), PostgreSQL
#   E2E_HEAP ("-Xms256m -Xmx768m")  puppetserver JVM heap
#   E2E_WITH_PUPPETDB (0)           1: install PuppetDB's packages too
#   E2E_PDB_ALLOWLIST ("")          certnames for PuppetDB's certificate-allowlist (space-
#                                   separated); empty: no allowlist, any certificate of the CA
#   E2E_BIN (target/debug)          where pe-sim and pe-analytics are
#   E2E_PE_VERSION (2021.7.1)       pe-sim's --pe-version
# Exported after e2e_init: E2E_LOG, SERVER_CERTNAME (puppet.test), E2E_SERVER_URL;
# after e2e_start_sim: SIM_PID, SIM_CLASSIFIER_URL, SIM_ORCH_URL, SIM_STATUS_URL,
# SIM_CA, SIM_CERT, SIM_KEY, SIM_TOKEN_FILE (path only), SIM_URL (/_sim hooks);
# after e2e_start_server: SERVER_PID, SERVER_START_SECS; PUPPETDB_PID, PG_DIR.

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_REPO=$(cd "$E2E_LIB_DIR/../.." && pwd)

e2e_ts() { date +%s.%N; }
e2e_since() { awk -v a="$1" -v b="$(e2e_ts)" 'BEGIN { printf "%.1f", b - a }'; }
e2e_log() { echo "[e2e $(date -u +%T)] $*" >&2; }
e2e_die() { e2e_log "FAIL: $*"; exit 1; }

e2e_init() {
  export E2E_ROOT=${E2E_ROOT:-/tmp/pe-e2e}
  export PUPPET_PORT=${PUPPET_PORT:-18140}
  export SIM_PORT=${SIM_PORT:-14433}
  export SIM_ORCH_PORT=${SIM_ORCH_PORT:-18143}
  export PDB_PORT=${PDB_PORT:-18081}
  export PDB_HTTP_PORT=${PDB_HTTP_PORT:-18080}
  export PG_PORT=${PG_PORT:-55432}
  export E2E_HEAP=${E2E_HEAP:-"-Xms256m -Xmx768m"}
  export E2E_WITH_PUPPETDB=${E2E_WITH_PUPPETDB:-0}
  export E2E_BIN=${E2E_BIN:-$E2E_REPO/target/debug}
  export E2E_PE_VERSION=${E2E_PE_VERSION:-2021.7.1}
  export E2E_LOG=$E2E_ROOT/log
  export SERVER_CERTNAME=puppet.test
  export E2E_SERVER_URL=https://127.0.0.1:$PUPPET_PORT
  E2E_PIDS=()
  SERVER_PID="" SIM_PID="" PUPPETDB_PID="" PG_DIR=""
  trap e2e_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

e2e_track() { E2E_PIDS+=("$1"); }

# e2e_check_ports PORT...: fail early when another process (another stack) listens there.
e2e_check_ports() {
  local p
  for p in "$@"; do
    if ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
      e2e_die "port $p is already in use on this machine: set PUPPET_PORT / SIM_PORT / SIM_ORCH_PORT / PDB_PORT / PDB_HTTP_PORT / PG_PORT"
    fi
  done
}

# Stop one process by PID: TERM, wait up to 20 s, then KILL.
e2e_kill() {
  local p=$1
  [ -n "$p" ] || return 0
  kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$p" 2>/dev/null
  sleep 0.2
}

e2e_untrack() {
  local keep=() p
  for p in "${E2E_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  E2E_PIDS=("${keep[@]}")
}

e2e_cleanup() {
  local rc=$? p
  set +e
  for p in "${E2E_PIDS[@]}"; do e2e_kill "$p"; done
  E2E_PIDS=()
  if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/postmaster.pid" ]; then
    runuser -u postgres -- "$(e2e_pg_bin)/pg_ctl" -D "$PG_DIR" -m fast -w stop >/dev/null 2>&1
  fi
  e2e_log "stopped every process started (exit $rc)"
}

e2e_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

e2e_install() {
  local t pkgs="puppetserver puppet-agent curl" missing=""
  [ "$E2E_WITH_PUPPETDB" = 1 ] &&
    pkgs="$pkgs puppetdb puppet-terminus-puppetdb dbconfig-no-thanks postgresql postgresql-contrib"
  for p in $pkgs; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
  done
  if [ -z "$missing" ]; then
    e2e_log "packages already installed"
    E2E_INSTALL_SECS=0
    return 0
  fi
  t=$(e2e_ts)
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq -o DPkg::Lock::Timeout=600
  # shellcheck disable=SC2086
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends $missing >/dev/null
  E2E_INSTALL_SECS=$(e2e_since "$t")
  e2e_log "installed$missing in ${E2E_INSTALL_SECS}s"
}

e2e_layout() {
  local R=$E2E_ROOT
  case "$R" in /?*/?* | /tmp/?*) ;; *) e2e_die "E2E_ROOT=$R: give a dedicated directory (it is wiped)" ;; esac
  rm -rf "$R"
  mkdir -p "$R"/{etc,code/environments/production/manifests,server/conf.d,server/services.d,var,run,log,nodes,bin,home}
  cp /etc/puppet/puppetserver/services.d/* "$R/server/services.d/"
  cp /etc/puppet/puppetserver/conf.d/{auth.conf,web-routes.conf,metrics.conf} "$R/server/conf.d/"
  sed "s#/var/log/puppetserver#$R/log#g" /etc/puppet/puppetserver/logback.xml >"$R/server/logback.xml"
  sed "s#/var/log/puppetserver#$R/log#g" /etc/puppet/puppetserver/request-logging.xml >"$R/server/request-logging.xml"
  echo "global: { logging-config: $R/server/logback.xml }" >"$R/server/conf.d/global.conf"
  echo "certificate-authority: { }" >"$R/server/conf.d/ca.conf"
  cat >"$R/server/conf.d/webserver.conf" <<EOF
webserver: {
  access-log-config: $R/server/request-logging.xml
  client-auth: want
  ssl-host: 127.0.0.1
  ssl-port: $PUPPET_PORT
}
EOF
  cat >"$R/server/conf.d/puppetserver.conf" <<EOF
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
EOF
  cat >"$R/etc/puppet.conf" <<EOF
[main]
certname = $SERVER_CERTNAME
server = localhost
serverport = $PUPPET_PORT
ssldir = $R/ssl
vardir = $R/var
logdir = $R/log
rundir = $R/run
codedir = $R/code
publicdir = $R/var/public
[server]
cadir = $R/ca
autosign = true
node_terminus = exec
external_nodes = $R/bin/enc
reports = store
EOF
  : >"$R/code/environments/production/manifests/site.pp"
  cp -r "$E2E_REPO/fixtures/puppet/modules" "$R/code/environments/production/modules"

  # ENC: asks pe-sim's classifier for the node's classification, with the facts the node
  # just submitted (the server caches them before it calls the ENC). Authenticates with
  # pe-sim's allowlisted client certificate, as PE's classifier terminus does with the
  # primary's. Its stderr is not shown by the server, so it logs to $E2E_LOG/enc.log.
  cat >"$R/bin/enc" <<EOF
#!/usr/bin/python3
import json, os, ssl, sys, time, urllib.request
ROOT = "$R"
def log(msg):
    with open(ROOT + "/log/enc.log", "a") as f:
        f.write(time.strftime("%H:%M:%S ") + msg + "\n")
node = sys.argv[1]
try:
    conf = json.load(open(ROOT + "/enc.json"))
    facts = {}
    cache = ROOT + "/var/server_data/facts/%s.json" % node
    if os.path.exists(cache):
        facts = json.load(open(cache)).get("values", {})
    ctx = ssl.create_default_context(cafile=conf["ca"])
    ctx.load_cert_chain(conf["cert"], conf["key"])
    body = json.dumps({"fact": facts, "trusted": {"certname": node, "authenticated": "remote", "extensions": {}}})
    req = urllib.request.Request(conf["classifier_url"] + "/v1/classified/nodes/" + node,
        data=body.encode(), headers={"Content-Type": "application/json"}, method="POST")
    c = json.load(urllib.request.urlopen(req, timeout=20, context=ctx))
    out = {"environment": c.get("environment", "production"),
           "classes": c.get("classes", {}), "parameters": c.get("parameters", {})}
    log("%s: %s" % (node, json.dumps(out, sort_keys=True)))
    print(json.dumps(out))
except Exception as e:
    log("%s: ERROR %r" % (node, e))
    sys.exit(1)
EOF
  chmod +x "$R/bin/enc"

  # One real agent run for a simulated node: pe-sim's --agent-command.
  cat >"$R/bin/run-agent" <<EOF
#!/bin/bash
# Usage: run-agent CERTNAME [puppet agent args]. PE_SIM_ENVIRONMENT and PE_SIM_NOOP come
# from pe-sim's orchestrator.
node=\$1; shift
dir="$R/nodes/\$node"
if [ ! -f "\$dir/etc/puppet.conf" ]; then
  echo "Error: no such node \$node (no \$dir/etc/puppet.conf)"; exit 1
fi
args=(agent -t --confdir "\$dir/etc" --color=false)
[ -n "\${PE_SIM_ENVIRONMENT:-}" ] && args+=(--environment "\$PE_SIM_ENVIRONMENT")
[ "\${PE_SIM_NOOP:-0}" = 1 ] && args+=(--noop)
set -a; . "\$dir/facts.env"; set +a
exec /usr/bin/puppet "\${args[@]}" "\$@"
EOF
  chmod +x "$R/bin/run-agent"
}

e2e_ca() {
  local t
  t=$(e2e_ts)
  puppetserver ca setup --config "$E2E_ROOT/etc/puppet.conf" --certname "$SERVER_CERTNAME" \
    --subject-alt-names "$SERVER_CERTNAME,localhost,IP:127.0.0.1" >"$E2E_LOG/ca-setup.log" 2>&1 ||
    { cat "$E2E_LOG/ca-setup.log" >&2; e2e_die "puppetserver ca setup failed"; }
  e2e_log "CA ready in $(e2e_since "$t")s"
}

e2e_start_server() {
  local t
  t=$(e2e_ts)
  # The package's java command line, with our config tree. setsid, not nohup: nohup makes
  # the JVM ignore SIGHUP, which puppetserver uses for reloads.
  # shellcheck disable=SC2086
  setsid /usr/bin/java $E2E_HEAP -Djruby.logger.class=com.puppetlabs.jruby_utils.jruby.Slf4jLogger \
    -Djruby.lib=/usr/share/jruby/lib -XX:+CrashOnOutOfMemoryError \
    -jar /usr/share/puppetserver/puppetserver.jar \
    --config "$E2E_ROOT/server/conf.d" --bootstrap-config "$E2E_ROOT/server/services.d" \
    >>"$E2E_LOG/puppetserver.stdout" 2>&1 </dev/null &
  SERVER_PID=$!
  e2e_track "$SERVER_PID"
  for _ in $(seq 1 400); do
    curl -sfk --max-time 2 "$E2E_SERVER_URL/status/v1/simple" 2>/dev/null | grep -qx running && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -40 "$E2E_LOG/puppetserver.log" >&2; e2e_die "puppetserver died"; }
    sleep 1
  done
  curl -sfk --max-time 2 "$E2E_SERVER_URL/status/v1/simple" | grep -qx running || e2e_die "puppetserver not ready"
  SERVER_START_SECS=$(e2e_since "$t")
  e2e_log "puppetserver ready in ${SERVER_START_SECS}s (pid $SERVER_PID, rss $(ps -o rss= -p "$SERVER_PID") KB)"
}

e2e_stop_server() {
  e2e_kill "$SERVER_PID"
  e2e_untrack "$SERVER_PID"
  SERVER_PID=""
}

e2e_node_dir() { echo "$E2E_ROOT/nodes/$1"; }

# e2e_add_node CERTNAME [FACT=VALUE ...]: FACTER_<FACT> overrides for every run of the node.
e2e_add_node() {
  local name=$1 d kv
  shift
  d=$(e2e_node_dir "$name")
  mkdir -p "$d"/{etc,ssl,var,run,log,code,etc/puppetlabs/puppetserver}
  cat >"$d/etc/puppet.conf" <<EOF
[main]
certname = $name
server = localhost
serverport = $PUPPET_PORT
ssldir = $d/ssl
vardir = $d/var
rundir = $d/run
logdir = $d/log
codedir = $d/code
publicdir = $d/var/public
[agent]
report = true
usecacheonfailure = false
splay = false
# Without this the first run stalls ~30 s after its CSR (kept-alive TLS 1.3 connection).
http_keepalive_timeout = 0
EOF
  # Overrides go through the custom fact in fixtures/puppet/modules/e2e_facts (structured
  # facts too); the marker's stand-in directory through a plain FACTER_ variable.
  /usr/bin/python3 - "$d/facts.json" "$@" <<'EOF'
import json, sys
out = {}
for kv in sys.argv[2:]:
    k, _, v = kv.partition("=")
    try:
        out[k] = json.loads(v)
    except ValueError:
        out[k] = v
json.dump(out, open(sys.argv[1], "w"), indent=1)
EOF
  {
    printf 'FACTER_e2e_etc_puppetlabs=%q\n' "$d/etc/puppetlabs"
    printf 'E2E_FACTS_FILE=%q\n' "$d/facts.json"
  } >"$d/facts.env"
}

# e2e_run_agent CERTNAME [ARGS...]: prints nothing; returns the agent's exit code.
e2e_run_agent() {
  local name=$1 n=1 t rc=0
  shift
  while [ -e "$E2E_LOG/agent-$name-$n.log" ]; do n=$((n + 1)); done
  t=$(e2e_ts)
  "$E2E_ROOT/bin/run-agent" "$name" "$@" >"$E2E_LOG/agent-$name-$n.log" 2>&1 || rc=$?
  E2E_LAST_AGENT_LOG=$E2E_LOG/agent-$name-$n.log
  e2e_log "agent run $name #$n: rc=$rc in $(e2e_since "$t")s"
  return $rc
}

e2e_last_run() {
  local f
  f=$(e2e_node_dir "$1")/var/public/last_run_summary.yaml
  [ -f "$f" ] || { echo 0; return 0; }
  awk '$1 == "last_run:" { print $2 }' "$f"
}

# e2e_start_sim [pe-sim args...]
e2e_start_sim() {
  local out=$E2E_LOG/pe-sim.json
  : >"$out"
  local client_ca=()
  # Certificates of the real Puppet CA (the server's, for PuppetDB) are accepted too.
  [ -f "$E2E_ROOT/ssl/certs/ca.pem" ] && client_ca=(--client-ca "$E2E_ROOT/ssl/certs/ca.pem")
  setsid "$E2E_BIN/pe-sim" --state-dir "$E2E_ROOT/sim" --port "$SIM_PORT" \
    --orchestrator-port "$SIM_ORCH_PORT" --pe-version "$E2E_PE_VERSION" \
    --agent-command "$E2E_ROOT/bin/run-agent" --job-duration-ms 200 "${client_ca[@]}" "$@" \
    >"$out" 2>>"$E2E_LOG/pe-sim.stderr" </dev/null &
  SIM_PID=$!
  e2e_track "$SIM_PID"
  for _ in $(seq 1 100); do
    [ -s "$out" ] && break
    kill -0 "$SIM_PID" 2>/dev/null || { cat "$E2E_LOG/pe-sim.stderr" >&2; e2e_die "pe-sim died"; }
    sleep 0.1
  done
  [ -s "$out" ] || e2e_die "pe-sim printed no JSON line"
  eval "$(/usr/bin/python3 - "$out" <<'EOF'
import json, shlex, sys
j = json.loads(open(sys.argv[1]).readline())
for var, key in [("SIM_CLASSIFIER_URL", "classifier_url"), ("SIM_ORCH_URL", "orchestrator_url"),
                 ("SIM_STATUS_URL", "status_url"), ("SIM_URL", "sim_url"), ("SIM_CA", "ca"),
                 ("SIM_CERT", "cert"), ("SIM_KEY", "key"), ("SIM_TOKEN_FILE", "token_file")]:
    print("export %s=%s" % (var, shlex.quote(str(j[key]))))
EOF
)"
  /usr/bin/python3 -c 'import json,sys; print(json.dumps({"classifier_url": sys.argv[1], "ca": sys.argv[2], "cert": sys.argv[3], "key": sys.argv[4]}))' \
    "$SIM_CLASSIFIER_URL" "$SIM_CA" "$SIM_CERT" "$SIM_KEY" >"$E2E_ROOT/enc.json"
  e2e_log "pe-sim up (pid $SIM_PID) $*"
}

e2e_stop_sim() {
  e2e_kill "$SIM_PID"
  e2e_untrack "$SIM_PID"
  SIM_PID=""
}

# Optional PuppetDB (issue 7): private PostgreSQL cluster on $PG_PORT, PuppetDB on
# $PDB_PORT (TLS, the server's certificate) and $PDB_HTTP_PORT (plain, 127.0.0.1), and
# the server's facts/reports/catalogs sent there. Call before e2e_start_server; then
# e2e_wait_puppetdb. Queries: curl http://127.0.0.1:$PDB_HTTP_PORT/pdb/query/v4/...
e2e_setup_puppetdb() {
  local R=$E2E_ROOT t pg
  pg=$(e2e_pg_bin)
  [ -n "$pg" ] || e2e_die "PostgreSQL is not installed (E2E_WITH_PUPPETDB=1 e2e_install)"
  t=$(e2e_ts)
  PG_DIR=$R/pg
  mkdir -p "$PG_DIR" "$R/pgrun" "$R/pdb/conf.d" "$R/pdb/var"
  chown postgres:postgres "$PG_DIR" "$R/pgrun"
  chmod 700 "$PG_DIR"
  runuser -u postgres -- "$pg/initdb" -D "$PG_DIR" -A trust -U postgres >"$E2E_LOG/initdb.log" 2>&1
  runuser -u postgres -- "$pg/pg_ctl" -D "$PG_DIR" -l "$R/pgrun/pg.log" \
    -o "-p $PG_PORT -k $R/pgrun -c listen_addresses=127.0.0.1" -w start >/dev/null
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "create role puppetdb login password 'puppetdb'" \
    -c "create database puppetdb owner puppetdb encoding 'utf8' template template0"
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d puppetdb -c "create extension pg_trgm"
  e2e_log "postgres ready in $(e2e_since "$t")s"
  cp /etc/puppetdb/bootstrap.cfg "$R/pdb/"
  cp /etc/puppetdb/conf.d/auth.conf "$R/pdb/conf.d/"
  sed "s#/var/log/puppetdb#$R/log#g" /etc/puppetdb/logback.xml >"$R/pdb/logback.xml"
  sed "s#/var/log/puppetdb#$R/log#g" /etc/puppetdb/request-logging.xml >"$R/pdb/request-logging.xml"
  printf '[global]\nvardir = %s\nlogging-config = %s\n[command-processing]\nthreads = 1\n' \
    "$R/pdb/var" "$R/pdb/logback.xml" >"$R/pdb/conf.d/config.ini"
  if [ -n "${E2E_PDB_ALLOWLIST:-}" ]; then
    # Only these certnames may query PuppetDB over HTTPS (its certificate-allowlist).
    printf '%s\n' $E2E_PDB_ALLOWLIST >"$R/pdb/certificate-allowlist"
    printf '[puppetdb]\ncertificate-allowlist = %s\n' "$R/pdb/certificate-allowlist" >>"$R/pdb/conf.d/config.ini"
  fi
  printf '[database]\nsubname = //127.0.0.1:%s/puppetdb\nusername = puppetdb\npassword = puppetdb\n' \
    "$PG_PORT" >"$R/pdb/conf.d/database.ini"
  cat >"$R/pdb/conf.d/jetty.ini" <<EOF
[jetty]
host = 127.0.0.1
port = $PDB_HTTP_PORT
ssl-host = 127.0.0.1
ssl-port = $PDB_PORT
ssl-key = $R/ssl/private_keys/$SERVER_CERTNAME.pem
ssl-cert = $R/ssl/certs/$SERVER_CERTNAME.pem
ssl-ca-cert = $R/ssl/certs/ca.pem
access-log-config = $R/pdb/request-logging.xml
EOF
  setsid /usr/bin/java -Xmx192m -Djava.security.egd=/dev/urandom \
    -cp /usr/share/puppetdb/puppetdb.jar clojure.main -m puppetlabs.puppetdb.core services \
    --config "$R/pdb/conf.d" --bootstrap-config "$R/pdb/bootstrap.cfg" \
    >"$E2E_LOG/puppetdb.stdout" 2>&1 </dev/null &
  PUPPETDB_PID=$!
  e2e_track "$PUPPETDB_PID"
  PUPPETDB_T0=$(e2e_ts)
  sed -i 's/^reports = store$/reports = store,puppetdb\nstoreconfigs = true\nstoreconfigs_backend = puppetdb/' "$R/etc/puppet.conf"
  printf '[main]\nserver_urls = https://localhost:%s\nsoft_write_failure = false\n' "$PDB_PORT" >"$R/etc/puppetdb.conf"
  printf -- '---\nserver:\n  facts:\n    terminus: puppetdb\n    cache: json\n' >"$R/etc/routes.yaml"
}

e2e_wait_puppetdb() {
  for _ in $(seq 1 400); do
    curl -sf --max-time 2 "http://127.0.0.1:$PDB_HTTP_PORT/status/v1/simple" 2>/dev/null | grep -qx running && break
    kill -0 "$PUPPETDB_PID" 2>/dev/null || { tail -40 "$E2E_LOG/puppetdb.log" >&2; e2e_die "puppetdb died"; }
    sleep 1
  done
  curl -sf --max-time 2 "http://127.0.0.1:$PDB_HTTP_PORT/status/v1/simple" | grep -qx running || e2e_die "puppetdb not ready"
  e2e_log "puppetdb ready $(e2e_since "$PUPPETDB_T0")s after its start (pid $PUPPETDB_PID)"
}

# e2e_pdb_wait_report CERTNAME EPOCH: PuppetDB stores reports asynchronously; wait (up to
# 60 s) until the node's latest report is from EPOCH or later.
e2e_pdb_wait_report() {
  local node=$1 after=$2 got
  for _ in $(seq 1 120); do
    got=$(curl -sf --max-time 2 "http://127.0.0.1:$PDB_HTTP_PORT/pdb/query/v4/nodes/$node" 2>/dev/null |
      /usr/bin/python3 -c '
import json, sys
from datetime import datetime
t = json.load(sys.stdin).get("report_timestamp")
print(int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()) if t else 0)' 2>/dev/null || echo 0)
    [ "${got:-0}" -ge "$after" ] && return 0
    sleep 0.5
  done
  e2e_die "PuppetDB has no report of $node since $after (latest: ${got:-none})"
}
