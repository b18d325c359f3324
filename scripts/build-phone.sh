#!/usr/bin/env bash
# Build the join pages' phone: JsSIP and esbuild from npm at the versions pinned in
# booking/web/js/package.json (and its lock), installed under build/phone (ignored by git;
# npm's download cache in /var/cache/dialconf/npm), bundled with our dialconf-phone.js into
# booking/web/static/dialconf-phone.js, which the booking service serves. Nothing is fetched at
# run time and the pages load no script from elsewhere.
#   scripts/build-phone.sh   (make provision / make run / make test run it when sources changed)
set -euo pipefail
cd "$(dirname "$0")/.."
src=booking/web/js
out=booking/web/static/dialconf-phone.js
work=build/phone
if ! command -v npm >/dev/null; then
  echo "npm is missing: install Debian's npm (apt-get install npm)" >&2
  exit 1
fi
mkdir -p "$work"
cp "$src/package.json" "$src/package-lock.json" "$work/"
cache="${DIALCONF_NPM_CACHE:-/var/cache/dialconf/npm}"
mkdir -p "$cache" 2>/dev/null || cache="$work/.npm-cache"
(cd "$work" && npm ci --no-audit --no-fund --cache "$cache" --loglevel=error)
"$work/node_modules/.bin/esbuild" "$src/dialconf-phone.js" --bundle --minify --format=iife \
  --target=chrome100,firefox100,safari15 --legal-comments=eof \
  --alias:jssip="$PWD/$work/node_modules/jssip" --outfile="$out.tmp" --log-level=warning
mv "$out.tmp" "$out"
echo "built $out"
