#!/usr/bin/env bash
# Flow-log throughput: `privpath flows --top dstaddr` against DuckDB
# (read_csv + GROUP BY dstaddr sum(bytes)) on the same generated files, in
# one run. Records wall time, CPU time (user+sys), lines per CPU-second,
# peak RSS (/usr/bin/time -v), 1 vs 2 threads, and the ratios.
#
# Usage: benches/flowlogs.sh [LINES]       (default 5000000)
# Env:   CARGO_TARGET_DIR   where the release binary is (default target/)
#        MAKE_FLOWLOGS      generator (default ../shared/tools/make_flowlogs.py)
#        BENCH_DIR          scratch folder for the generated files (default benches/out)
# Needs: python3 with the `duckdb` package (pip install duckdb), GNU time.
set -euo pipefail

LINES=${1:-5000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/privpath
GEN=${MAKE_FLOWLOGS:-$ROOT/../shared/tools/make_flowlogs.py}
OUT=${BENCH_DIR:-$ROOT/benches/out}
mkdir -p "$OUT"

[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release)
python3 -c 'import duckdb' 2>/dev/null || { echo "pip install duckdb first" >&2; exit 2; }

V2=$OUT/v2_$LINES.log
V5=$OUT/v5_$LINES.log
[ -s "$V2" ] || python3 "$GEN" --lines "$LINES" --format v2 --seed 1 --out "$V2"
[ -s "$V5" ] || python3 "$GEN" --lines "$LINES" --format v5 --seed 2 --out "$V5"

# run NAME CMD... -> prints "NAME wall_s cpu_s rss_mb"
run() {
    local name=$1
    shift
    local log=$OUT/time_$name.txt
    /usr/bin/time -v -o "$log" "$@" >"$OUT/stdout_$name.txt"
    local wall user sys rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
    user=$(awk -F': ' '/User time/ {print $2}' "$log")
    sys=$(awk -F': ' '/System time/ {print $2}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
    echo "$name $wall $(echo "$user + $sys" | bc -l) $rss"
}

DUCK=$OUT/duck.py
cat >"$DUCK" <<'PY'
import sys, duckdb
path, fmt, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute(f"SET threads TO {threads}")
if fmt == "v2":
    cols = ["version","account_id","interface_id","srcaddr","dstaddr","srcport","dstport",
            "protocol","packets","bytes","start","end","action","log_status"]
    spec = ", ".join(f"'{c}': '{'BIGINT' if c in ('bytes','packets') else 'VARCHAR'}'" for c in cols)
    src = f"read_csv('{path}', delim=' ', header=false, nullstr='-', columns={{{spec}}})"
else:
    src = f"read_csv('{path}', delim=' ', header=true, nullstr='-', types={{'bytes': 'BIGINT', 'packets': 'BIGINT'}})"
rows = con.execute(f"SELECT dstaddr, count(*), sum(packets), sum(bytes) AS b FROM {src} "
                   "WHERE dstaddr IS NOT NULL GROUP BY dstaddr ORDER BY b DESC, dstaddr").fetchall()
for r in rows[:10]:
    print(",".join(str(x) for x in r))
PY

results=$OUT/results.txt
: >"$results"
for fmt in v2 v5; do
    file=$OUT/${fmt}_$LINES.log
    for j in 1 2; do
        run "privpath_${fmt}_j$j" "$BIN" flows -q -j "$j" --top dstaddr -o csv "$file" | tee -a "$results"
        run "duckdb_${fmt}_j$j" python3 "$DUCK" "$file" "$fmt" "$j" | tee -a "$results"
    done
    # Same answer: the first rows agree (privpath: header line, then rows).
    if ! diff <(sed -n '2,11p' "$OUT/stdout_privpath_${fmt}_j2.txt") "$OUT/stdout_duckdb_${fmt}_j2.txt" >/dev/null; then
        echo "WARNING: privpath and duckdb disagree on $fmt top rows" | tee -a "$results"
    fi
done

echo
echo "lines=$LINES  (wall s, cpu s, peak RSS MB; ratio = duckdb wall / privpath wall at the same -j)"
awk -v lines="$LINES" '
    { wall[$1]=$2; cpu[$1]=$3; rss[$1]=$4 }
    END {
        printf "| file | threads | privpath wall s | privpath CPU s | M lines / CPU-s | peak RSS MB | DuckDB wall s | DuckDB RSS MB | speed-up vs DuckDB |\n"
        printf "|---|---|---|---|---|---|---|---|---|\n"
        for (f = 1; f <= 2; f++) {
            fmt = (f == 1) ? "v2" : "v5"
            for (j = 1; j <= 2; j++) {
                p = "privpath_" fmt "_j" j; d = "duckdb_" fmt "_j" j
                printf "| %s | %d | %.2f | %.2f | %.1f | %d | %.2f | %d | %.1fx |\n", fmt, j, wall[p], cpu[p], lines / cpu[p] / 1e6, rss[p], wall[d], rss[d], wall[d] / wall[p]
            }
            printf "| %s | 2 vs 1 | privpath scaling %.2fx | | | | DuckDB scaling %.2fx | | |\n", fmt, wall["privpath_" fmt "_j1"] / wall["privpath_" fmt "_j2"], wall["duckdb_" fmt "_j1"] / wall["duckdb_" fmt "_j2"]
        }
    }' "$results"
