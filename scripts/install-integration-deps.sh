#!/usr/bin/env bash
# Installs the Debian packages the integration tests (test/integration/, docs/integration-tests.md)
# start on loopback: Postfix, Dovecot (IMAP, POP3), BIND (named, rndc, dig, named-checkzone),
# openssl, and Prometheus's promtool (its service is never started, like the others'). Needs
# root and Debian's package mirrors, nothing else. Idempotent: packages already installed are
# skipped, and a re-run with everything present touches nothing.
#
# No package may start its system-wide service: a policy-rc.d that refuses every start is in
# place during the install (removed afterwards only if this script created it), and Postfix is
# preseeded to "No configuration" so it writes no main.cf and asks nothing.
set -euo pipefail
# dpkg's maintainer scripts and the checks below need the sbin folders, which a root PATH may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

packages=(
  postfix          # postfix, postconf, /usr/lib/postfix/sbin/master
  dovecot-core     # dovecot (pulled in by the two below; listed for clarity)
  dovecot-imapd
  dovecot-pop3d
  dovecot-lmtpd        # LMTP and ManageSieve: the built-in dialogues' integration test
  dovecot-managesieved
  bind9            # named, tsig-keygen
  bind9-utils      # rndc, rndc-confgen, named-checkzone (a dependency of bind9; listed for clarity)
  bind9-dnsutils   # dig, nsupdate, delv
  openssl
  prometheus       # promtool (check metrics) for test/integration/promtool-metrics.test.ts
  iproute2         # ip netns, veth, bridge for test/integration/ip-takeover-netns.test.ts
  iputils-arping   # the gratuitous ARP the IP takeover test's exec hook sends
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-integration-deps: must run as root (it installs Debian packages)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != "ii " ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-integration-deps: all present (${packages[*]})"
  exit 0
fi
echo "install-integration-deps: installing ${missing[*]}"

export DEBIAN_FRONTEND=noninteractive

policy=/usr/sbin/policy-rc.d
created_policy=false
cleanup() {
  if [ "$created_policy" = true ]; then rm -f "$policy"; fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# installed by mailpool scripts/install-integration-deps.sh for the install only\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=true
fi

# debconf-set-selections comes with debconf, which every Debian system has.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string localhost.localdomain" | debconf-set-selections

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

for cmd in postconf postfix dovecot named tsig-keygen rndc named-checkzone dig nsupdate delv openssl ip arping; do
  command -v "$cmd" >/dev/null || { echo "install-integration-deps: $cmd is still missing" >&2; exit 1; }
done
echo "install-integration-deps: done"
