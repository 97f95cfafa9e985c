#!/usr/bin/env bash
# End-to-end scenarios against real Puppet (issue 6): Debian's puppetserver compiles the
# catalogs from pe-sim's classification (through an ENC), and pe-sim's orchestrator runs
# real `puppet agent -t` for each node of a deploy job. Assertions are on the marker files
# the agents manage, the agents' own reports and exit codes.
#
#   bash .ci/e2e/run.sh          (root; installs puppetserver + puppet-agent when missing)
#
# Variables: see .ci/e2e/lib.sh (E2E_ROOT, ports, E2E_HEAP, E2E_BIN). E2E_NO_BUILD=1 uses
# the binaries in $E2E_BIN as they are.
set -euo pipefail
# PuppetDB (issue 13): Puppet Server stores catalogs and reports there, and `status` proves
# from them that the change was applied.
export E2E_WITH_PUPPETDB=${E2E_WITH_PUPPETDB:-1}
. "$(dirname "$0")/lib.sh"
T_ALL=$(e2e_ts)
e2e_init
cd "$E2E_REPO"

PRIMARY=primary.example.test
CONSOLE=console.example.test
TIMINGS=()
scenario() { SC_NAME=$1; SC_T=$(e2e_ts); e2e_log "=== scenario: $1"; }
passed() {
  local s
  s=$(e2e_since "$SC_T")
  TIMINGS+=("$(printf '%-44s %6ss' "$SC_NAME" "$s")")
  e2e_log "=== PASS: $SC_NAME (${s}s)"
}
marker() { echo "$(e2e_node_dir "$1")/etc/puppetlabs/analytics-opt-out"; }
assert_marker() { [ -e "$(marker "$1")" ] || e2e_die "$SC_NAME: no marker on $1 ($(marker "$1"))"; }
assert_no_marker() { [ ! -e "$(marker "$1")" ] || e2e_die "$SC_NAME: marker still on $1"; }

# The node's last run (its own report): later than $2 (epoch), no failed event, and the
# marker file resource changed in it.
assert_run_changed_marker() {
  local node=$1 after=$2 d last
  d=$(e2e_node_dir "$node")
  last=$(e2e_last_run "$node")
  [ "${last:-0}" -ge "$after" ] || e2e_die "$SC_NAME: $node has not run since $after (last_run ${last:-none})"
  /usr/bin/python3 - "$d/var/public/last_run_summary.yaml" "$d/var/state/last_run_report.yaml" "$(marker "$node")" <<'EOF' ||
import re, sys
summary, report, marker = sys.argv[1:4]
s = open(summary).read()
m = re.search(r"^events:\n(?:  .*\n)*?  failure: (\d+)", s, re.M)
assert m and m.group(1) == "0", "failed events in " + summary
lines = open(report).read().split("\n")
key = "File[%s]" % marker
for i, l in enumerate(lines):
    if key in l and l.rstrip().endswith(("Status", ":")) and not l.startswith("    "):
        ind = len(l) - len(l.lstrip())
        for m2 in lines[i + 1:]:
            if m2.strip() and len(m2) - len(m2.lstrip()) <= ind:
                break
            if m2.strip() == "changed: true":
                sys.exit(0)
sys.exit("%s is not a changed resource in %s" % (key, report))
EOF
    e2e_die "$SC_NAME: $node's report does not show the marker change"
}

# pe-analytics against pe-sim: clean HOME, token from the file pe-sim wrote (never printed).
pa() {
  local more=(--pe-version-file "$E2E_ROOT/no-pe_version" --certname "$PRIMARY")
  [ "$1" = check ] && more=()
  env -u PE_RBAC_TOKEN HOME="$E2E_ROOT/home" "$E2E_BIN/pe-analytics" "$@" \
    --classifier-url "$SIM_CLASSIFIER_URL" --orchestrator-url "$SIM_ORCH_URL" \
    --cacert "$SIM_CA" --token-file "$SIM_TOKEN_FILE" "${more[@]}"
}
# run_pa NAME ARGS...: output in $E2E_LOG/pa-NAME.{out,err}; sets PA_RC, PA_OUT.
run_pa() {
  local name=$1
  shift
  PA_RC=0
  pa "$@" >"$E2E_LOG/pa-$name.out" 2>"$E2E_LOG/pa-$name.err" || PA_RC=$?
  PA_OUT=$E2E_LOG/pa-$name.out
  if grep -qF -f "$SIM_TOKEN_FILE" "$E2E_LOG/pa-$name.out" "$E2E_LOG/pa-$name.err"; then
    e2e_die "$SC_NAME: the token leaked into pa-$name output"
  fi
  e2e_log "pe-analytics $1: exit $PA_RC"
}
# pa_pdb: pa, also reaching the real PuppetDB: a CA bundle (pe-sim's and the Puppet CA),
# the server's certificate (PuppetDB accepts any certificate of its CA; pe-sim goes by the
# token).
pa_pdb() {
  env -u PE_RBAC_TOKEN HOME="$E2E_ROOT/home" "$E2E_BIN/pe-analytics" "$@" \
    --classifier-url "$SIM_CLASSIFIER_URL" --orchestrator-url "$SIM_ORCH_URL" \
    --cacert "$E2E_ROOT/ca-bundle.pem" --token-file "$SIM_TOKEN_FILE" \
    --cert "$E2E_ROOT/ssl/certs/$SERVER_CERTNAME.pem" --key "$E2E_ROOT/ssl/private_keys/$SERVER_CERTNAME.pem" \
    --puppetdb-url "https://localhost:$PDB_PORT" \
    --pe-version-file "$E2E_ROOT/no-pe_version" --certname "$PRIMARY"
}
run_pa_pdb() {
  local name=$1
  shift
  PA_RC=0
  pa_pdb "$@" >"$E2E_LOG/pa-$name.out" 2>"$E2E_LOG/pa-$name.err" || PA_RC=$?
  PA_OUT=$E2E_LOG/pa-$name.out
  if grep -qF -f "$SIM_TOKEN_FILE" "$E2E_LOG/pa-$name.out" "$E2E_LOG/pa-$name.err"; then
    e2e_die "$SC_NAME: the token leaked into pa-$name output"
  fi
  e2e_log "pe-analytics $1 (PuppetDB): exit $PA_RC"
}
# applied_row FILE NODE FIELD: the status JSON's "applied" row of NODE.
applied_row() { json_get "$1" "[l['$3'] for l in j['layers'] if l['layer']=='applied' and l.get('node')=='$2'][0]"; }
expect_rc() {
  [ "$PA_RC" = "$1" ] || {
    sed 's/^/  | /' "$PA_OUT" "${PA_OUT%.out}.err" >&2
    e2e_die "$SC_NAME: exit $PA_RC, expected $1"
  }
}
# json_get FILE PYTHON-EXPR (j = the document)
json_get() { /usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# posts PATH-PART: how many POSTs pe-sim recorded to paths containing it.
posts() {
  curl -sf --cacert "$SIM_CA" "$SIM_URL/requests" |
    /usr/bin/python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["method"]=="POST" and sys.argv[1] in r["path"]))' "$1"
}
deploys() { posts /command/deploy; }
group_writes() { posts /classifier-api/v1/groups/; }

# ---- set-up ----------------------------------------------------------------------------
e2e_check_ports "$PUPPET_PORT" "$SIM_PORT" "$SIM_ORCH_PORT" "$PDB_PORT" "$PDB_HTTP_PORT" "$PG_PORT"
e2e_install
if [ "${E2E_NO_BUILD:-0}" != 1 ]; then
  T=$(e2e_ts)
  cargo build --locked --bins --quiet
  e2e_log "binaries built in $(e2e_since "$T")s"
fi
e2e_layout
e2e_ca
e2e_add_node "$PRIMARY"
e2e_add_node "$CONSOLE"
e2e_setup_puppetdb
e2e_start_sim
cat "$SIM_CA" "$E2E_ROOT/ssl/certs/ca.pem" >"$E2E_ROOT/ca-bundle.pem"
e2e_start_server
e2e_wait_puppetdb

# ---- 1. monolithic opt-out --------------------------------------------------------------
scenario "monolithic: opt-out, status, idempotent"
rc=0; e2e_run_agent "$PRIMARY" || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 2 ] || e2e_die "baseline agent run failed (rc $rc, $E2E_LAST_AGENT_LOG)"
assert_no_marker "$PRIMARY"
T0=$(date +%s); sleep 1
run_pa opt-out opt-out --classifier --format json
expect_rc 0
assert_marker "$PRIMARY"
assert_run_changed_marker "$PRIMARY" "$T0"
[ "$(json_get "$PA_OUT" "[n['state'] for l in j['layers'] if l.get('layer')=='runs' for n in l['nodes']]")" = "['finished']" ] ||
  e2e_die "opt-out: the job did not finish on the primary"
run_pa status status --format json --marker-file "$(marker "$PRIMARY")"
expect_rc 0
[ "$(json_get "$PA_OUT" "j['outcome']")" = compliant ] || e2e_die "status is not compliant"
# The same, proven by PuppetDB: the catalog the agent received, and its report.
e2e_pdb_wait_report "$PRIMARY" "$T0"
run_pa_pdb status-pdb status --format json --marker-file "$(marker "$PRIMARY")"
expect_rc 0
applied_row "$PA_OUT" "$PRIMARY" detail | grep -q "PuppetDB: the catalog of .* send_analytics_data = false" ||
  e2e_die "status does not prove the opt-out from PuppetDB: $(applied_row "$PA_OUT" "$PRIMARY" detail)"
N=$(deploys); W=$(group_writes); LR=$(e2e_last_run "$PRIMARY")
run_pa opt-out-again opt-out --classifier --format json
expect_rc 0
[ "$(deploys)" = "$N" ] || e2e_die "the second opt-out started a Puppet run"
[ "$(group_writes)" = "$W" ] || e2e_die "the second opt-out wrote to the classifier"
[ "$(e2e_last_run "$PRIMARY")" = "$LR" ] || e2e_die "the primary ran again"
assert_marker "$PRIMARY"
passed

# ---- 2. opt-in ------------------------------------------------------------------------------
scenario "monolithic: opt-in removes the marker"
T0=$(date +%s); sleep 1
run_pa opt-in opt-in --classifier --format json
expect_rc 0
assert_no_marker "$PRIMARY"
assert_run_changed_marker "$PRIMARY" "$T0"
N_BEFORE_NORUN=$(deploys)
passed

# ---- 2b. PuppetDB: --no-run, then an agent run outside the tool -------------------------------
scenario "PuppetDB: --no-run not applied; a scheduled-style agent run applies it"
run_pa no-run opt-out --classifier --no-run --format json
expect_rc 0
[ "$(deploys)" = "$N_BEFORE_NORUN" ] || e2e_die "--no-run started a Puppet run"
run_pa_pdb status-no-run status --format json --marker-file "$(marker "$PRIMARY")"
expect_rc 2
[ "$(applied_row "$PA_OUT" "$PRIMARY" verdict)" = not-compliant ] ||
  e2e_die "after --no-run, status says applied: $(applied_row "$PA_OUT" "$PRIMARY" detail)"
applied_row "$PA_OUT" "$PRIMARY" detail | grep -q "PuppetDB" || e2e_die "the applied row does not come from PuppetDB"
T0=$(date +%s); sleep 1
rc=0; e2e_run_agent "$PRIMARY" || rc=$?   # as a scheduled run would: no orchestrator job
[ "$rc" = 2 ] || e2e_die "the agent run exited $rc, expected 2 (changes)"
assert_marker "$PRIMARY"
e2e_pdb_wait_report "$PRIMARY" "$T0"
run_pa_pdb status-agent status --format json --marker-file "$(marker "$PRIMARY")"
expect_rc 0
[ "$(applied_row "$PA_OUT" "$PRIMARY" verdict)" = compliant ] ||
  e2e_die "after the agent run, status does not say applied: $(applied_row "$PA_OUT" "$PRIMARY" detail)"
[ "$(deploys)" = "$N_BEFORE_NORUN" ] || e2e_die "status or --no-run started a Puppet run"
# Back to opted in for the next scenario.
run_pa reset opt-in --classifier
expect_rc 0
assert_no_marker "$PRIMARY"
passed

# ---- 3. the string "false" ------------------------------------------------------------------
scenario 'string "false": compile fails, status/check, repaired'
GID=$(curl -sf --cacert "$SIM_CA" "$SIM_URL/groups" |
  /usr/bin/python3 -c 'import json,sys; print([g["id"] for g in json.load(sys.stdin) if g["name"]=="PE Infrastructure"][0])')
# Someone else writes the value as a string (certificate auth, as a script on the primary would).
curl -sf -o /dev/null --cacert "$SIM_CA" --cert "$SIM_CERT" --key "$SIM_KEY" -H 'Content-Type: application/json' \
  -d '{"classes":{"puppet_enterprise":{"send_analytics_data":"false"}}}' \
  "$SIM_CLASSIFIER_URL/v1/groups/$GID" || e2e_die "could not write the string value"
rc=0; e2e_run_agent "$PRIMARY" || rc=$?
[ "$rc" = 1 ] || e2e_die "the agent run with a String value exited $rc, expected 1 (compile error)"
grep -q "expects a Boolean value, got String" "$E2E_LAST_AGENT_LOG" ||
  e2e_die "the compile error is not the Boolean type check ($E2E_LAST_AGENT_LOG)"
assert_no_marker "$PRIMARY"
run_pa status-string status --format json --marker-file "$(marker "$PRIMARY")"
expect_rc 2
[ "$(json_get "$PA_OUT" "[l['verdict'] for l in j['layers'] if l['layer']=='classifier'][0]")" = not-compliant ] ||
  e2e_die "status does not report the classifier layer as not compliant"
json_get "$PA_OUT" "[l['detail'] for l in j['layers'] if l['layer']=='classifier'][0]" | grep -q invalid ||
  e2e_die "status does not say the classifier value is invalid"
json_get "$PA_OUT" "[l['detail'] for l in j['layers'] if l['layer']=='applied' and l['verdict']=='not-compliant'][0]" |
  grep -q "not a boolean" || e2e_die "status does not say the string value cannot be applied"
run_pa check-string check --classifier --format json
expect_rc 2
[ "$(json_get "$PA_OUT" "[l['state'] for l in j['layers'] if l['layer']=='classifier'][0]")" = invalid ] ||
  e2e_die "check does not report the classifier value as invalid"
T0=$(date +%s); sleep 1
run_pa opt-out-repair opt-out --classifier --format json
expect_rc 0
assert_marker "$PRIMARY"
assert_run_changed_marker "$PRIMARY" "$T0"
passed

# ---- 4. split install -----------------------------------------------------------------------
scenario "split: markers on primary and console node"
e2e_stop_sim
rm -f "$(marker "$PRIMARY")"   # a fresh installation (the classifier starts at the default)
e2e_start_sim --split --primary "$PRIMARY" --console "$CONSOLE"
T0=$(date +%s); sleep 1
run_pa split-opt-out opt-out --classifier --format json
expect_rc 0
assert_marker "$PRIMARY"
assert_marker "$CONSOLE"
assert_run_changed_marker "$PRIMARY" "$T0"
assert_run_changed_marker "$CONSOLE" "$T0"
passed

# ---- 5. the runs fail: Puppet Server stopped ------------------------------------------------
scenario "runs fail (server stopped): exit 4, per-node reason"
e2e_stop_server
run_pa split-opt-in-fails opt-in --classifier --format json
expect_rc 4
for n in "$PRIMARY" "$CONSOLE"; do
  st=$(json_get "$PA_OUT" "[x['state'] for l in j['layers'] if l.get('layer')=='runs' for x in l['nodes'] if x['name']=='$n']")
  msg=$(json_get "$PA_OUT" "[x.get('message') or '' for l in j['layers'] if l.get('layer')=='runs' for x in l['nodes'] if x['name']=='$n'][0]")
  [ "$st" = "['failed']" ] || e2e_die "$n: state $st, expected failed"
  echo "$msg" | grep -q "Connection refused" || e2e_die "$n: the reason does not say why: $msg"
  # The old value stays in place: the marker was not removed.
  assert_marker "$n"
done
run_pa split-opt-in-fails-text opt-in --classifier
expect_rc 4
for n in "$PRIMARY" "$CONSOLE"; do
  grep -q "$n" "$PA_OUT" "${PA_OUT%.out}.err" || e2e_die "the text output does not name $n"
done
passed

e2e_stop_sim
TOTAL=$(e2e_since "$T_ALL")
{
  echo "install: ${E2E_INSTALL_SECS}s; puppetserver start: ${SERVER_START_SECS}s"
  printf '%s\n' "${TIMINGS[@]}"
  echo "total: ${TOTAL}s"
} | tee "$E2E_LOG/timings.txt"
e2e_log "all real-Puppet scenarios passed"
