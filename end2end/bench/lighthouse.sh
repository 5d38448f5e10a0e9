#!/usr/bin/env bash
# Lighthouse's mobile performance audit (its default simulated throttling: 4x CPU slowdown,
# 150 ms RTT, 1.6 Mbit/s) of the customer pages, signed in as a demo customer, with Debian's
# Chromium. Lighthouse comes from npm into ~/.cache/ordercast-tools (once).
# Usage: end2end/bench/lighthouse.sh [base URL] [page ...]
# Run against a release build (`cargo leptos build --release --split`) on a fresh database.
set -euo pipefail
base="${1:-http://127.0.0.1:3300}"
shift || true
pages=("${@:-/shops /shops/1 /orders /orders/1}")
tools="$HOME/.cache/ordercast-tools/lighthouse"
if [ ! -x "$tools/node_modules/.bin/lighthouse" ]; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund lighthouse@12 >/dev/null
fi
cookie=$(curl -sf -i -X POST -H 'content-type: application/json' \
  -d '{"email":"alice@ordercast.test","password":"ordercast"}' "$base/api/v1/auth/login" |
  tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
out=$(mktemp -d)
here="$(cd "$(dirname "$0")" && pwd)"
# Signed in through the browser's cookie jar, so that the page's socket is signed in too; each
# page audited on a fresh copy of that profile (a cold cache, no service worker), because the
# storage reset Lighthouse does by default would clear the cookie.
node "$here/signed-in-profile.mjs" "$out/profile" "$base" "$cookie"
for page in ${pages[@]}; do
  report="$out/$(echo "$page" | tr '/' '_').json"
  rm -rf "$out/run" && cp -r "$out/profile" "$out/run"
  CHROME_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}" "$tools/node_modules/.bin/lighthouse" "$base$page" \
    --quiet --only-categories=performance --form-factor=mobile --disable-storage-reset \
    --chrome-flags="--headless --no-sandbox --user-data-dir=$out/run" \
    --output=json --output-path="$report" >/dev/null 2>&1
  node -e '
    const r = require(process.argv[1]), a = r.audits, v = (k) => a[k].displayValue.replace(/\s/g, " ");
    console.log([process.argv[2].padEnd(12), "performance", Math.round(r.categories.performance.score * 100),
      "FCP", v("first-contentful-paint"), "LCP", v("largest-contentful-paint"), "TTI", v("interactive"),
      "TBT", v("total-blocking-time"), "CLS", v("cumulative-layout-shift")].join(" "));
    // A page that was not the signed-in one it was asked for measures nothing useful.
    const signIn = a["network-requests"].details.items.some((i) => i.resourceType === "Document" && new URL(i.url).pathname === "/login");
    if (signIn) console.log("  (this visit went to /login: not signed in)");' "$report" "$page"
done
rm -rf "$out"
