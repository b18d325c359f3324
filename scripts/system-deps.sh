#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the project needs, only those missing.
#   scripts/system-deps.sh run    what `make run` needs
#   scripts/system-deps.sh test   plus what the test suite needs
set -euo pipefail
want=(debootstrap espeak-ng sox)  # sox/espeak-ng: the prompts (conference_ivr/pbx/sounds.py)
# The SMS gateway: we run bearerbox/smsbox ourselves (booking/adapters/kannel.py) on ports 131xx,
# so Debian's own kannel service (13000-13013) is neither needed nor in the way. kannel-extras has
# the fake SMSC program (/usr/lib/kannel/test/fakesmsc) the tests and a hand-typed phone use.
want+=(kannel kannel-extras)
# The statement's PDF keeps Czech letters in DejaVu Sans (booking/adapters/statement_pdf.py).
want+=(fonts-dejavu-core)
# The SIP front of several media nodes (conference_ivr/cluster/kamailio.py): we run kamailio
# ourselves with a rendered config on our own port, so Debian's own service (every interface,
# port 5060, where Asterisk listens) must not start: see the end of this script.
want+=(kamailio)
# npm: the join pages' phone is bundled from npm packages at setup (scripts/build-phone.sh).
command -v npm >/dev/null || want+=(npm)
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then want+=(python3-venv); fi
# The store tier and `make bench` start a throwaway PostgreSQL cluster (conference_ivr/cluster/postgres.py).
# chromium + chromium-driver: the web pages are tested in a real browser (selenium);
# prometheus: its promtool checks the /metrics exposition.
if [ "${1:-run}" = "test" ]; then want+=(sip-tester postgresql chromium chromium-driver prometheus); fi
# openssl: the DKIM tests make their signing keys with it (tests/support/dkim.py).
if [ "${1:-run}" = "test" ]; then want+=(openssl); fi

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages: ${missing[*]} - install them as root (apt-get install ${missing[*]})" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "missing packages: ${missing[*]} and no apt-get to install them" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# A policy-rc.d answering 101 keeps the package scripts from starting kamailio's service during
# the install (only that one; one already in place, e.g. a container's, is left as it is).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n[ "$1" = kamailio ] && exit 101\nexit 0\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# The package enables kamailio.service; with systemd it would start at the next boot.
if [[ " ${missing[*]} " == *" kamailio "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now kamailio.service >/dev/null 2>&1 || true
fi
