#!/usr/bin/env bash
# make-keys.sh — recreate the PUBLIC TEST signing keys used by samples/build.sh.
#
# These keys are committed on purpose and are NOT secret: anyone can sign with them.
# Never trust anything signed by them. Running this script makes NEW keys (RSA key
# generation is random), so the certificate digests in README.md would change and
# any recorded expectations that name them must be updated.
#
# Usage: samples/keys/make-keys.sh [--force]
set -euo pipefail

cd "$(dirname "$0")"
command -v keytool >/dev/null || { echo "make-keys.sh: keytool missing: apt-get install openjdk-17-jre-headless" >&2; exit 1; }

PASS=romscan-test
for name in release other platform; do
	if [[ -e $name.p12 && ${1:-} != --force ]]; then
		echo "make-keys.sh: $name.p12 exists (use --force to replace it)" >&2
		continue
	fi
	rm -f "$name.p12"
	keytool -genkeypair -keystore "$name.p12" -storetype PKCS12 \
		-storepass "$PASS" -keypass "$PASS" -alias "$name" \
		-keyalg RSA -keysize 2048 -sigalg SHA256withRSA \
		-startdate "2024/01/01 00:00:00" -validity 36500 \
		-dname "CN=romscan public test $name key, OU=PUBLIC TEST KEY - DO NOT TRUST, O=romscan, C=XX"
done
for name in release other platform; do
	# The certificate alone, for signature catalogues and tests that match a signer.
	keytool -exportcert -rfc -keystore "$name.p12" -storepass "$PASS" -alias "$name" -file "$name.x509.pem"
	echo "== $name"
	keytool -list -v -keystore "$name.p12" -storepass "$PASS" | grep -E 'Owner:|SHA256:'
done
