# Benchmark data shared by scripts/bench-reader and scripts/bench-worker (source this file; bash).
#
# bench_snapshot VERSION MODE N: a 2-shard snapshot repository of one index `bench` (snapshot `bench`) whose two
# shards are the same N-document Lucene index written by ../shared/tools/lucene-gen (VERSION v8 or v9, MODE
# BEST_SPEED or BEST_COMPRESSION, seed 1, force-merged, ~2.45 KB of _source per document) and wrapped by
# make-snapshot (es7 for v8, os2 for v9). Made once and cached in $BENCH_DIR (default target/bench-data); prints
# the directory, whose `repo/` is the repository and `index/` the Lucene index.
bench_snapshot() {
  local v=$1 mode=$2 n=$3
  local bench=${BENCH_DIR:-target/bench-data}
  local dir="$bench/$v-$mode-$n"
  if [ ! -f "$dir/.done" ]; then
    echo "bench-data: writing $dir ($n docs)" >&2
    rm -rf "$dir"
    mkdir -p "$bench"
    ../shared/tools/lucene-gen/lucene-gen "$v" write --dir "$dir/index" --n "$n" --mode "$mode" --seed 1 --force-merge >/dev/null
    local version=es7
    [ "$v" = v9 ] && version=os2
    python3 ../shared/tools/make-snapshot/make-snapshot --out "$dir/repo" --snapshot bench --version "$version" \
      --index "bench:$dir/index,$dir/index" >/dev/null
    touch "$dir/.done"
  fi
  echo "$dir"
}
