#!/usr/bin/env bash
# The whole audit at scale against DuckDB's plain aggregation of the same
# files, in one run: `privpath audit CASE -o json` vs
#   SELECT srcaddr, dstaddr, action, sum(bytes) FROM read_csv(...) GROUP BY ALL
# on a case from ../shared/tools/make_scale_case.py (a 200-instance VPC,
# v5 flow logs in the S3 layout with replies). Records wall time, CPU time
# (user + sys), peak RSS (/usr/bin/time -v), -j 1 and -j 2, and the ratios.
#
# Usage: benches/audit_scale.sh [RECORDS] [--gzip]   (default 1000000)
# Env:   CARGO_TARGET_DIR  where the release binary is (default target/)
#        MAKE_SCALE_CASE   generator (default ../shared/tools/make_scale_case.py)
#        BENCH_DIR         scratch folder for the case (default benches/out)
#        ROUNDS            runs of each command, alternated (default 1)
# Needs: python3 with the `duckdb` package (pip install duckdb), GNU time.
set -euo pipefail

N=${1:-1000000}
GZ=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${PRIVPATH_BIN:-$TARGET/release/privpath}
GEN=${MAKE_SCALE_CASE:-$ROOT/../shared/tools/make_scale_case.py}
OUT=${BENCH_DIR:-$ROOT/benches/out}
ROUNDS=${ROUNDS:-1}
mkdir -p "$OUT"

[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release)
python3 -c 'import duckdb' 2>/dev/null || { echo "pip install duckdb first" >&2; exit 2; }

CASE=$OUT/scale_${N}${GZ:+_gz}
[ -d "$CASE/flowlogs" ] || python3 "$GEN" "$CASE" --records "$N" ${GZ:+--gzip}
BYTES=$(du -sb "$CASE/flowlogs" | cut -f1)

DUCK=$OUT/duck_audit.py
cat >"$DUCK" <<'PY'
import sys, duckdb
folder, threads = sys.argv[1], int(sys.argv[2])
con = duckdb.connect()
con.execute(f"SET threads TO {threads}")
src = (f"read_csv('{folder}/**/*.log*', delim=' ', header=true, nullstr='-', "
       "types={'bytes': 'BIGINT', 'packets': 'BIGINT'})")
rows = con.execute(f"SELECT srcaddr, dstaddr, action, sum(bytes) FROM {src} GROUP BY ALL").fetchall()
print(len(rows))
PY

# run NAME CMD... -> prints "NAME wall_s cpu_s rss_mib"
run() {
    local name=$1
    shift
    local log=$OUT/time_$name.txt
    /usr/bin/time -v -o "$log" "$@" >"$OUT/stdout_$name.txt" || true
    local wall user sys rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
    user=$(awk -F': ' '/User time/ {print $2}' "$log")
    sys=$(awk -F': ' '/System time/ {print $2}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
    echo "$name $wall $(echo "$user + $sys" | bc -l) $rss"
}

results=$OUT/audit_results.txt
: >"$results"
for r in $(seq "$ROUNDS"); do
    for j in 1 2; do
        run "privpath_j${j}_r$r" "$BIN" -q -j "$j" audit "$CASE/flowlogs" --topology "$CASE/topology" -o json --exit-zero | tee -a "$results"
        run "duckdb_j${j}_r$r" python3 "$DUCK" "$CASE/flowlogs" "$j" | tee -a "$results"
    done
done

echo
echo "records=$N bytes=$BYTES (wall s, CPU s, peak RSS MiB; ratio = DuckDB wall / privpath wall, same -j, same round)"
awk '
    { split($1, p, "_"); tool=p[1]; key=p[2] "_" p[3]; wall[tool, key]=$2; cpu[tool, key]=$3; rss[tool, key]=$4; keys[key]=1 }
    END {
        for (k in keys) {
            printf "%s privpath %.2f s / %.2f CPU s / %d MiB, duckdb %.2f s / %.2f CPU s / %d MiB, ratio %.2fx\n",
                k, wall["privpath", k], cpu["privpath", k], rss["privpath", k],
                wall["duckdb", k], cpu["duckdb", k], rss["duckdb", k], wall["duckdb", k] / wall["privpath", k]
        }
    }' "$results" | sort
