#!/usr/bin/env bash
# Installs the named Debian packages that are missing (needs root or sudo),
# then the offline IP attribution tables (npm) into internal/geoip/data.
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -ne 0 ]; then
  echo "deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Offline IP-to-country and IP-to-ASN tables for endpoint attribution
# (CSV, CC BY 4.0; see internal/geoip). Pinned versions; git-ignored folder.
IPDB_VERSION=2.3.2026061719
ipdb="$(cd "$(dirname "$0")/.." && pwd)/internal/geoip/data"
if [ ! -f "$ipdb/node_modules/@ip-location-db/asn/asn-ipv4.csv" ] || \
   [ ! -f "$ipdb/node_modules/@ip-location-db/geo-whois-asn-country/geo-whois-asn-country-ipv4.csv" ]; then
  if ! command -v npm >/dev/null; then
    echo "deps: installing npm"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  echo "deps: installing the offline IP tables into $ipdb"
  mkdir -p "$ipdb"
  npm install --prefix "$ipdb" --no-audit --no-fund --no-save --silent \
    "@ip-location-db/asn@$IPDB_VERSION" "@ip-location-db/geo-whois-asn-country@$IPDB_VERSION" || \
    echo "deps: WARNING: could not install the IP tables; scans will run without IP attribution"
fi
