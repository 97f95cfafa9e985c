#!/usr/bin/env bash
# Whole-process figures for every command a user waits on (issue 15), side by
# side with lightbend config (Java) and ruby-hocon on the same bytes:
#
#   check, opt-out --dry-run, opt-out, conf get, conf set      on a real-sized
#       pe.conf (fixtures/pe.conf/2021.7-standard.conf) and on the generated
#       1 MB and 10 MB documents (benches/hocon.rs, HOCON_BENCH_EMIT)
#   status and opt-out --classifier --no-run against pe-sim with every flag
#       given, with a `puppet` on PATH that takes 10 s to answer
#
# What the other tools run for each command (they have no such commands; this
# is the work a script with them would do):
#   check, conf get       ConfigFactory.parseFile + resolve, then the key's value
#                         (what PE's puppet_enterprise::data Hiera backend does)
#   conf set, opt-out     ConfigDocumentFactory.parseFile + set the key + render,
#                         written to the file
#   opt-out --dry-run     the same, rendered to stdout, nothing written
#
# pe-analytics: best of RUNS (hyperfine, after 2 warm-up runs) and the median;
# peak RSS: the smallest of 3 runs (/usr/bin/time). Java: best of JAVA_RUNS, JVM
# start included. ruby-hocon: RUBY_RUNS runs at 1 MB and on the real-sized
# file; at 10 MB only with RUBY_10MB=1 (more than 40 minutes a command).
#
# Usage: bash benches/commands.sh              (from the repository root)
# Env:   RUNS=20 JAVA_RUNS=3 RUBY_RUNS=1 RUBY_10MB= SKIP_RUBY= SKIP_JAVA=
#        PROFILE=release (the cargo profile measured)
#        BENCH_DIR=/dev/shm (where the files are; a directory on disk adds
#        the fsync of every write the tool makes)
#        CONFIG_JAR=/usr/share/java/typesafe-config.jar
#        (apt-get install -y libtypesafe-config-java default-jdk-headless hyperfine)
# Prints a table, then each target of the issue with PASS or FAIL; exits 1 when
# one fails. The machine should be otherwise idle (check `uptime`): figures
# on a loaded machine mean little.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}
JAVA_RUNS=${JAVA_RUNS:-3}
RUBY_RUNS=${RUBY_RUNS:-1}
PROFILE=${PROFILE:-release}
CONFIG_JAR=${CONFIG_JAR:-/usr/share/java/typesafe-config.jar}
KEY=puppet_enterprise::send_analytics_data
QKEY='"puppet_enterprise::send_analytics_data"'
GETKEY=puppet_enterprise::puppet_master_host
QGETKEY='"puppet_enterprise::puppet_master_host"'
# On tmpfs by default: every write the tool makes is synced to disk (fsync),
# which on a disk measures the disk; the other tools do not sync.
BENCH_DIR=${BENCH_DIR:-$( [[ -d /dev/shm ]] && echo /dev/shm || echo /tmp )}
WORK=$(mktemp -d "$BENCH_DIR/pe-analytics-bench.XXXXXX")
SIM_PID=
cleanup() {
    if [[ -n $SIM_PID ]]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install -y hyperfine)"; exit 2; }
echo "== $(date -u +%FT%TZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== building ($PROFILE) and generating documents into $WORK"
# The tool as it ships (without the simulator's `sim` feature), then pe-sim.
cargo build --locked --quiet --profile "$PROFILE" --no-default-features --bin pe-analytics
cp "$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/$PROFILE/pe-analytics" "$WORK/pe-analytics"
cargo build --locked --quiet --profile "$PROFILE" --features sim --bin pe-sim
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
OUT_DIR=$TARGET_DIR/$PROFILE
[[ $PROFILE == dev ]] && OUT_DIR=$TARGET_DIR/debug
BIN=$WORK/pe-analytics
SIM=$OUT_DIR/pe-sim
ls -l "$BIN" | awk '{printf "   pe-analytics binary: %.1f MB\n", $5 / 1e6}'
mkdir -p "$WORK/docs"
HOCON_BENCH_EMIT="$WORK/docs" cargo bench --quiet --bench hocon >/dev/null
cp fixtures/pe.conf/2021.7-standard.conf "$WORK/docs/pe-real.conf"
SIZES=(real 1mb 10mb)

HAVE_JAVA=0
if [[ -z ${SKIP_JAVA:-} && -r $CONFIG_JAR ]] && command -v javac >/dev/null; then
    HAVE_JAVA=1
    mkdir -p "$WORK/java"
    cat >"$WORK/java/Bench.java" <<'JAVA'
import com.typesafe.config.*;
import com.typesafe.config.parser.*;
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;

/** MODE FILE [PATH [VALUE]]: get (parse, resolve, print the value), set (document edit,
 *  written to FILE), render (document edit, printed). */
public class Bench {
    public static void main(String[] a) throws Exception {
        File file = new File(a[1]);
        switch (a[0]) {
            case "get": {
                Config c = ConfigFactory.parseFile(file).resolve();
                System.out.println(c.hasPath(a[2]) ? c.getValue(a[2]).render(ConfigRenderOptions.concise()) : "not set");
                break;
            }
            case "set":
            case "render": {
                ConfigDocument d = ConfigDocumentFactory.parseFile(file, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF));
                String out = d.withValueText(a[2], a[3]).render();
                if (a[0].equals("set")) {
                    Files.write(file.toPath(), out.getBytes(StandardCharsets.UTF_8));
                } else {
                    Writer w = new OutputStreamWriter(System.out, StandardCharsets.UTF_8);
                    w.write(out);
                    w.flush();
                }
                break;
            }
        }
    }
}
JAVA
    javac -cp "$CONFIG_JAR" -d "$WORK/java" "$WORK/java/Bench.java"
    JAVA_VERSION=$(java -version 2>&1 | head -1 | sed 's/.*"\(.*\)".*/\1/')
fi

HAVE_RUBY=0
if [[ -z ${SKIP_RUBY:-} ]] && ruby -e 'require "hocon"' 2>/dev/null; then
    HAVE_RUBY=1
    cat >"$WORK/bench.rb" <<'RUBY'
# MODE FILE [PATH [VALUE]]: as Bench.java, with ruby-hocon 1.3.1.
require 'hocon'
require 'hocon/config_factory'
require 'hocon/config_render_options'
require 'hocon/parser/config_document_factory'
mode, file, path, value = ARGV
case mode
when 'get'
  c = Hocon::ConfigFactory.parse_file(file).resolve
  puts(c.has_path?(path) ? c.get_value(path).render(Hocon::ConfigRenderOptions.concise) : 'not set')
when 'set', 'render'
  out = Hocon::Parser::ConfigDocumentFactory.parse_file(file).set_value(path, value).render
  mode == 'set' ? File.write(file, out) : $stdout.write(out)
end
RUBY
fi

# Commands: name, pe-analytics arguments (F is the file), the other tools' mode.
COMMANDS=(check opt-out-dry-run opt-out conf-get conf-set)
pe_args() { # command file
    case $1 in
        check) echo "check --pe-conf $2" ;;
        opt-out-dry-run) echo "opt-out --dry-run --pe-conf $2" ;;
        opt-out) echo "opt-out --pe-conf $2" ;;
        conf-get) echo "conf get --file $2 $GETKEY" ;;
        conf-set) echo "conf set --file $2 $KEY false" ;;
    esac
}
other_args() { # command file
    case $1 in
        check) echo "get $2 $QKEY" ;;
        conf-get) echo "get $2 $QGETKEY" ;;
        opt-out-dry-run) echo "render $2 $QKEY false" ;;
        opt-out | conf-set) echo "set $2 $QKEY false" ;;
    esac
}

# hyperfine RUNS PREPARE COMMAND... -> "best median" in seconds
measure() {
    local runs=$1 prepare=$2; shift 2
    local warmup=2
    (( runs < 3 )) && warmup=0
    # hyperfine -N splits the command as a shell would: quote each argument.
    local cmd
    cmd=$(printf '%q ' "$@")
    hyperfine --style none -N -i --warmup "$warmup" --runs "$runs" --prepare "$prepare" \
        --export-json "$WORK/h.json" --output=null "$cmd" >/dev/null 2>&1
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(min(r["times"]), r["median"])' "$WORK/h.json"
}
# peak RSS in KB: the smallest of 3 runs
peak_rss() { # prepare command...
    local prepare=$1; shift
    local best=
    for _ in 1 2 3; do
        bash -c "$prepare"
        /usr/bin/time -f %M -o "$WORK/rss" "$@" >/dev/null 2>&1 || true
        local m
        m=$(tail -1 "$WORK/rss")
        [[ -z $best || $m -lt $best ]] && best=$m
    done
    echo "$best"
}

declare -A PE PEMED RSS JV RB
for size in "${SIZES[@]}"; do
    src=$WORK/docs/pe-$size.conf
    f=$WORK/work-$size.conf
    prep="cp $src $f"
    for c in "${COMMANDS[@]}"; do
        cp "$src" "$f"
        # shellcheck disable=SC2046
        read -r best med < <(measure "$RUNS" "$prep" "$BIN" $(pe_args "$c" "$f"))
        PE[$c,$size]=$best
        PEMED[$c,$size]=$med
        # shellcheck disable=SC2046
        RSS[$c,$size]=$(peak_rss "$prep" "$BIN" $(pe_args "$c" "$f"))
        if [[ $HAVE_JAVA == 1 ]]; then
            # The other tools must do the work, not fail fast: check once.
            cp "$src" "$f"
            # shellcheck disable=SC2046
            java -cp "$CONFIG_JAR:$WORK/java" Bench $(other_args "$c" "$f") >/dev/null ||
                { echo "Java failed on $c $size"; exit 2; }
            # shellcheck disable=SC2046
            read -r jb _ < <(measure "$JAVA_RUNS" "$prep" java -cp "$CONFIG_JAR:$WORK/java" Bench $(other_args "$c" "$f"))
            JV[$c,$size]=$jb
        fi
        if [[ $HAVE_RUBY == 1 && ( $size != 10mb || -n ${RUBY_10MB:-} ) ]]; then
            cp "$src" "$f"
            # shellcheck disable=SC2046
            ruby "$WORK/bench.rb" $(other_args "$c" "$f") >/dev/null ||
                { echo "ruby-hocon failed on $c $size"; exit 2; }
            # shellcheck disable=SC2046
            read -r rb _ < <(measure "$RUBY_RUNS" "$prep" ruby "$WORK/bench.rb" $(other_args "$c" "$f"))
            RB[$c,$size]=$rb
        fi
        printf '   measured %-16s %-5s pe-analytics %8.2f ms\n' "$c" "$size" "$(echo "$best * 1000" | bc -l)" >&2
    done
done

bytes() { stat -c %s "$WORK/docs/pe-$1.conf"; }
ms() { printf '%.2f' "$(echo "$1 * 1000" | bc -l)"; }
ratio() { [[ -n ${1:-} && -n ${2:-} ]] && printf '%.0fx' "$(echo "$1 / $2" | bc -l)" || printf -- '-'; }
secs() { [[ -n ${1:-} ]] && printf '%.3f' "$1" || printf -- '-'; }

echo
echo "== whole process, best of $RUNS (median); Java ${JAVA_VERSION:-absent} best of $JAVA_RUNS; ruby-hocon $RUBY_RUNS run(s)"
printf '%-16s %-5s %10s %10s %9s %9s %10s %9s %9s %9s\n' command size "pe ms" "median ms" "RSS MB" "limit MB" "Java s" "ruby s" "Java/pe" "ruby/pe"
for c in "${COMMANDS[@]}"; do
    for size in "${SIZES[@]}"; do
        limit=$(echo "3 * $(bytes "$size") / 1048576 + 30" | bc -l)
        printf '%-16s %-5s %10s %10s %9.1f %9.1f %10s %9s %9s %9s\n' "$c" "$size" \
            "$(ms "${PE[$c,$size]}")" "$(ms "${PEMED[$c,$size]}")" \
            "$(echo "${RSS[$c,$size]} / 1024" | bc -l)" "$limit" \
            "$(secs "${JV[$c,$size]:-}")" "$(secs "${RB[$c,$size]:-}")" \
            "$(ratio "${JV[$c,$size]:-}" "${PE[$c,$size]}")" "$(ratio "${RB[$c,$size]:-}" "${PE[$c,$size]}")"
    done
done

echo
echo "== status and opt-out --classifier --no-run against pe-sim, every flag given, a 10 s \`puppet\` first on PATH"
mkdir -p "$WORK/slow-bin" "$WORK/home" "$WORK/confdir"
printf '#!/bin/sh\nsleep 10\necho certname = slow.example.test\n' >"$WORK/slow-bin/puppet"
chmod +x "$WORK/slow-bin/puppet"
"$SIM" --state-dir "$WORK/sim" --port 0 --orchestrator-port 0 --pe-version 2021.7.1 >"$WORK/sim.json" 2>"$WORK/sim.log" &
SIM_PID=$!
for _ in $(seq 100); do [[ -s $WORK/sim.json ]] && break; sleep 0.1; done
sim() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/sim.json" "$1"; }
FLAGS="--classifier-url $(sim classifier_url) --orchestrator-url $(sim orchestrator_url) --cacert $(sim ca) --token-file $(sim token_file) --pe-version 2021.7.1"
export PATH="$WORK/slow-bin:$PATH" HOME="$WORK/home"
# shellcheck disable=SC2086
read -r st_best st_med < <(measure "$RUNS" "true" "$BIN" status $FLAGS --puppetdb-url "$(sim puppetdb_url)")
# shellcheck disable=SC2086
read -r nr_best nr_med < <(measure "$RUNS" "$BIN opt-in --classifier --no-run $FLAGS" "$BIN" opt-out --classifier --no-run $FLAGS)
printf '   %-34s best %7.1f ms  median %7.1f ms\n' "status" "$(ms "$st_best")" "$(ms "$st_med")"
printf '   %-34s best %7.1f ms  median %7.1f ms\n' "opt-out --classifier --no-run" "$(ms "$nr_best")" "$(ms "$nr_med")"

echo
echo "== floors: what any command pays before its work (best of $RUNS)"
read -r start_best _ < <(measure "$RUNS" "true" "$BIN" --version)
read -r cat_best _ < <(measure "$RUNS" "true" cat "$WORK/docs/pe-1mb.conf")
printf '   %-34s best %7.2f ms\n' "pe-analytics --version (start)" "$(ms "$start_best")"
printf '   %-34s best %7.2f ms\n' "cat of the 1 MB file" "$(ms "$cat_best")"

echo
echo "== targets"
FAILED=0
check() { # description condition
    if eval "$2"; then echo "   PASS  $1"; else echo "   FAIL  $1"; FAILED=1; fi
}
lt() { [[ -n ${1:-} && -n ${2:-} ]] && (( $(echo "$1 < $2" | bc -l) )); }
for c in "${COMMANDS[@]}"; do
    for size in real 1mb; do
        [[ $HAVE_JAVA == 1 ]] && check "$c $size: 25x faster than Java ($(ratio "${JV[$c,$size]}" "${PE[$c,$size]}"))" "lt $(echo "25 * ${PE[$c,$size]}" | bc -l) ${JV[$c,$size]}"
    done
    [[ -n ${RB[$c,1mb]:-} ]] && check "$c 1mb: 1000x faster than ruby-hocon ($(ratio "${RB[$c,1mb]}" "${PE[$c,1mb]}"); 1000x is $(ms "$(echo "${RB[$c,1mb]} / 1000" | bc -l)") ms, the start plus a cat of the file $(ms "$(echo "$start_best + $cat_best" | bc -l)") ms)" "lt $(echo "1000 * ${PE[$c,1mb]}" | bc -l) ${RB[$c,1mb]}"
    check "$c: 10 MB / 1 MB at most 11x ($(printf '%.1f' "$(echo "${PE[$c,10mb]} / ${PE[$c,1mb]}" | bc -l)")x)" "lt $(echo "${PE[$c,10mb]} / ${PE[$c,1mb]}" | bc -l) 11.0001"
    for size in "${SIZES[@]}"; do
        limit=$(echo "3 * $(bytes "$size") / 1024 + 30 * 1024" | bc -l)
        check "$c $size: peak RSS $(( RSS[$c,$size] / 1024 )) MB within 3x the file + 30 MB" "lt ${RSS[$c,$size]} $limit"
    done
done
check "status under 150 ms ($(ms "$st_best") ms)" "lt $st_best 0.150"
check "opt-out --no-run under 150 ms ($(ms "$nr_best") ms)" "lt $nr_best 0.150"
exit $FAILED
