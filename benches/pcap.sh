#!/usr/bin/env bash
# End-to-end capture benchmark: privpath (flows + DNS + SNI through the
# binary: `privpath flows --top` and `privpath dns` both run the whole
# capture engine) vs `tshark -q -z conv,ip` vs a bare pcap-parser +
# etherparse read (rust-pcap-bench, the lower bound), on one generated
# capture, round-robin in one run.
#
# Usage: benches/pcap.sh [PACKETS]          (default 2000000)
# Env:   BENCH_DIR     work folder (default ${TMPDIR:-/tmp}/privpath-pcap-bench)
#        SHARED_TOOLS  folder with make_big_pcap.py and rust-pcap-bench
#                      (default ../shared/tools next to the repository)
#        ROUNDS        runs per command (default 3; the median is reported)
#        BASELINE      another privpath binary (e.g. built from an older
#                      commit) timed in the same run as `privpath flows --top`
#        CARGO_TARGET_DIR  as for any cargo build
# Nothing is written inside the repository. Needs python3, tshark, capinfos.
set -euo pipefail

N=${1:-2000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=${SHARED_TOOLS:-$ROOT/../shared/tools}
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/privpath-pcap-bench}
ROUNDS=${ROUNDS:-3}
mkdir -p "$DIR"
BIG="$DIR/big-$N.pcap"

if [ ! -s "$BIG" ]; then
    echo "generating $BIG ($N packets)…" >&2
    python3 "$TOOLS/make_big_pcap.py" "$BIG" --packets "$N" >&2
fi

echo "building privpath (release)…" >&2
(cd "$ROOT" && cargo build --release --no-default-features --bin privpath >&2)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
PRIVPATH="$TARGET/release/privpath"

echo "building rust-pcap-bench (outside the repository)…" >&2
# Built from a copy, so that nothing (not even a Cargo.lock) is written
# into the shared tools folder.
rm -rf "$DIR/rust-pcap-bench-src" && cp -r "$TOOLS/rust-pcap-bench" "$DIR/rust-pcap-bench-src"
(cd "$DIR/rust-pcap-bench-src" && CARGO_TARGET_DIR="$DIR/rpb-target" cargo build --release >&2)
BARE="$DIR/rpb-target/release/rust-pcap-bench"

PACKETS=$(capinfos -c -M "$BIG" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
SIZE=$(stat -c %s "$BIG")

EXTRA=()
if [ -n "${BASELINE:-}" ]; then
    EXTRA=("baseline: $BASELINE flows --top dstaddr" "$BASELINE flows -q --top dstaddr $BIG")
fi

python3 - "$ROUNDS" "$PACKETS" "$SIZE" "$BIG" \
    "privpath flows --top dstaddr (flows+DNS+SNI), -j default" "$PRIVPATH flows -q --top dstaddr $BIG" \
    "privpath dns (flows+DNS+SNI, prints every DNS answer), -j default" "$PRIVPATH dns -q $BIG" \
    "privpath dns, -j 1" "$PRIVPATH dns -q -j 1 $BIG" \
    "tshark -q -z conv,ip" "tshark -n -r $BIG -q -z conv,ip" \
    "bare pcap-parser+etherparse" "$BARE $BIG" \
    ${EXTRA[@]+"${EXTRA[@]}"} <<'PY'
import os, resource, shlex, statistics, subprocess, sys, time
rounds, packets, size, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cmds = list(zip(sys.argv[5::2], sys.argv[6::2]))
load_before = os.getloadavg()[0]


def busy_cpu_seconds():
    # All CPUs, every process: user+nice+system+irq+softirq+steal ticks.
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


busy_before, ours = busy_cpu_seconds(), 0.0
res = {name: [] for name, _ in cmds}
for _ in range(rounds):
    for name, cmd in cmds:  # round-robin, so background load hits all alike
        with open(path, "rb") as f:  # page cache warm
            while f.read(1 << 24):
                pass
        t0 = time.monotonic()
        p = subprocess.Popen(shlex.split(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        if status != 0:
            print(f"warning: {name} exited with {status}", file=sys.stderr)
        res[name].append((wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024))
        ours += ru.ru_utime + ru.ru_stime
load = os.getloadavg()[0]
me = resource.getrusage(resource.RUSAGE_SELF)  # the page-cache warm-up reads
others = busy_cpu_seconds() - busy_before - ours - me.ru_utime - me.ru_stime
print(f"{packets} packets, {size / 1e6:.0f} MB, {rounds} rounds, {os.cpu_count()} CPUs, "
      f"1-min load {load_before:.1f} before / {load:.1f} after; CPU used by other "
      f"processes during the timed runs: {max(others, 0):.1f} CPU-s\n")
print("| command | wall median (s) | wall min (s) | CPU median (s) | packets/s (wall) | packets/s (CPU) | peak RSS (MiB) |")
print("|---|---|---|---|---|---|---|")
med, low = {}, {}
for name, _ in cmds:
    w = statistics.median(r[0] for r in res[name])
    lo = min(r[0] for r in res[name])
    c = statistics.median(r[1] for r in res[name])
    m = max(r[2] for r in res[name])
    med[name], low[name] = (w, c), lo
    print(f"| {name} | {w:.2f} | {lo:.2f} | {c:.2f} | {packets / w:,.0f} | {packets / c:,.0f} | {m:.0f} |")
ts, bare = med[cmds[3][0]], med[cmds[4][0]]
ts_lo, bare_lo = low[cmds[3][0]], low[cmds[4][0]]
print()
for name, _ in cmds[:3] + cmds[5:]:
    pp = med[name]
    print(f"{name}: vs tshark {ts[0] / pp[0]:.1f}x (wall), {ts[1] / pp[1]:.1f}x (CPU), "
          f"{ts_lo / low[name]:.1f}x (best walls); vs bare read {bare[0] / pp[0]:.2f}x (wall), "
          f"{bare[1] / pp[1]:.2f}x (CPU), {bare_lo / low[name]:.2f}x (best walls)")
PY
