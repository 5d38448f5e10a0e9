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
for page in ${pages[@]}; do
  report="$out/$(echo "$page" | tr '/' '_').json"
  CHROME_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}" "$tools/node_modules/.bin/lighthouse" "$base$page" \
    --quiet --only-categories=performance --form-factor=mobile \
    --chrome-flags="--headless --no-sandbox" --extra-headers="{\"Cookie\":\"$cookie\"}" \
    --output=json --output-path="$report" >/dev/null 2>&1
  node -e '
    const r = require(process.argv[1]), a = r.audits, v = (k) => a[k].displayValue.replace(/\s/g, " ");
    console.log([process.argv[2].padEnd(12), "performance", Math.round(r.categories.performance.score * 100),
      "FCP", v("first-contentful-paint"), "LCP", v("largest-contentful-paint"), "TTI", v("interactive"),
      "TBT", v("total-blocking-time"), "CLS", v("cumulative-layout-shift")].join(" "));' "$report" "$page"
done
rm -rf "$out"
