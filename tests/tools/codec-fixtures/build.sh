#!/usr/bin/env bash
# build.sh: prepares the cache that `codec-fixtures` runs from (idempotent; a lock serialises runs).
#
#   1. lucene-gen's own setup (../shared/tools/lucene-gen): the Lucene 9.9.1 classes.
#   2. Debian's libzstd-jni-java (zstd-jni 1.5.2 over the system libzstd), installed when root.
#   3. Lucene 10: the Lucene classes of the Anserini fat jar in the PyPI sdist pyserini==2.4.0
#      (Lucene 10.5.0); kept in the cache as one jar.
#   4. A JDK 21 or newer for Lucene 10 (any /usr/lib/jvm/*/bin/javac that is new enough, or $JAVA21_HOME).
#   5. Compiles lucene-gen's LuceneGen.java with this tool's Compat.java and codec classes (src/),
#      against each Lucene, with the codecs' SPI registration.
#
# Cache: $CODEC_FIXTURES_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/codec-fixtures.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
lucene_gen=${LUCENE_GEN_DIR:-$repo/../shared/tools/lucene-gen}
cache=${CODEC_FIXTURES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/codec-fixtures}
lg_cache=${LUCENE_GEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lucene-gen}
PYSERINI=pyserini==2.4.0
ZSTD_JNI=/usr/share/java/zstd-jni.jar

say() { echo "codec-fixtures build: $*" >&2; }
die() { echo "codec-fixtures build: error: $*" >&2; exit 1; }

[ -x "$lucene_gen/setup.sh" ] || die "lucene-gen not found at $lucene_gen (set LUCENE_GEN_DIR)"
mkdir -p "$cache/lib"
exec 9>"$cache/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

# 1. Lucene 9.9.1 (lucene-gen's cache)
L9="$lg_cache/lib/lucene-9.9.1.jar"
[ -s "$L9" ] || "$lucene_gen/setup.sh" >&2
[ -s "$L9" ] || die "lucene-gen setup left no $L9"

# 2. zstd-jni
if [ ! -s "$ZSTD_JNI" ]; then
  [ "$(id -u)" = 0 ] || die "Debian package libzstd-jni-java is not installed; run: sudo apt-get install -y libzstd-jni-java"
  say "installing Debian package libzstd-jni-java"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends libzstd-jni-java >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends libzstd-jni-java >/dev/null; } \
    || die "apt-get install libzstd-jni-java failed"
fi

# 3. Lucene 10 from pyserini's Anserini jar
L10="$cache/lib/lucene-10.jar"
if [ ! -s "$L10" ]; then
  tmp=$(mktemp -d "$cache/tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  say "Lucene 10: downloading the $PYSERINI sdist from PyPI (about 110 MB)"
  python3 -m pip download --quiet --no-deps --ignore-requires-python --dest "$tmp" "$PYSERINI" \
    || die "pip download $PYSERINI failed (is PyPI reachable?)"
  sdist=$(ls "$tmp"/pyserini-*.tar.gz 2>/dev/null | head -n 1)
  [ -n "$sdist" ] || die "pip left no pyserini-*.tar.gz in $tmp"
  python3 - "$sdist" "$L10.tmp" "$tmp" <<'PY'
import os, re, shutil, sys, tarfile, zipfile
sdist, out, tmp = sys.argv[1:4]
with tarfile.open(sdist, 'r:gz') as tar:
    member = next((m for m in tar if re.search(r'/resources/jars/anserini-[^/]*-fatjar\.jar$', m.name)), None)
    if member is None:
        sys.exit('no anserini-*-fatjar.jar inside ' + sdist)
    fat = os.path.join(tmp, 'fat.jar')
    with tar.extractfile(member) as src, open(fat, 'wb') as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
keep = re.compile(r'^(org/apache/lucene/|META-INF/services/org\.apache\.lucene\.|META-INF/versions/\d+/org/apache/lucene/)')
n = 0
with zipfile.ZipFile(fat) as zin, zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as zout:
    zout.writestr('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\r\nMulti-Release: true\r\n\r\n')
    for info in zin.infolist():
        if keep.match(info.filename) and not info.is_dir():
            zout.writestr(info, zin.read(info))
            n += 1
if n < 1000:
    sys.exit('only %d Lucene entries in the Anserini jar' % n)
PY
  mv "$L10.tmp" "$L10"
  rm -rf "$tmp"
  trap - EXIT
  say "Lucene 10: wrote $L10"
fi

# 4. a JDK 21+
jdk21=${JAVA21_HOME:-}
if [ -z "$jdk21" ]; then
  for j in /usr/lib/jvm/*; do
    [ -x "$j/bin/javac" ] || continue
    major=$("$j/bin/javac" -version 2>&1 | sed -n 's/^javac \([0-9][0-9]*\).*/\1/p')
    if [ -n "$major" ] && [ "$major" -ge 21 ]; then jdk21=$j; break; fi
  done
fi
[ -n "$jdk21" ] || die "no JDK 21 or newer under /usr/lib/jvm (Lucene 10 needs one); set JAVA21_HOME"
echo "$jdk21" > "$cache/jdk21"

# 5. compile
stamp=$( (cat "$lucene_gen/src/LuceneGen.java"; find "$here/src" -type f | sort | xargs cat; echo "$jdk21") | sha256sum | cut -c1-16)
if [ "$(cat "$cache/classes/.stamp" 2>/dev/null || true)" = "$stamp" ]; then
  say "classes: up to date"
  exit 0
fi
build=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$build"' EXIT
for v in v9 v10; do
  if [ $v = v9 ]; then jar=$L9; javac=javac; release=17; else jar=$L10; javac=$jdk21/bin/javac; release=21; fi
  mkdir -p "$build/$v"
  "$javac" -nowarn -encoding UTF-8 --release $release -cp "$jar:$ZSTD_JNI" -d "$build/$v" \
    "$lucene_gen/src/LuceneGen.java" "$here/src/$v/Compat.java" "$here/src/fixtures/"*.java "$here/src/$v/fixtures/"*.java \
    || die "javac failed for $v"
  cp -r "$here/src/$v/META-INF" "$build/$v/"
done
echo "$stamp" > "$build/.stamp"
rm -rf "$cache/classes"
mv "$build" "$cache/classes"
trap - EXIT
say "classes: compiled into $cache/classes"
