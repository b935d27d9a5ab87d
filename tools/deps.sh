#!/bin/sh
# Installs the Debian packages Things needs to build, test and demo, when
# they are missing.  Needs root (or sudo) only if something is missing.
set -eu

# libnet-ssleay-perl: swaks' STARTTLS (only a Recommends of swaks); iproute2: ss, with which
# tests/e2e/mailbed.sh finds free ports; nginx-light: bench/feeds serves its feeds with it;
# isync: mbsync, the baseline of bench/ingest; sqlite3: the e2e tests (lib_delivery.sh) query the
# store with it, and `make demo` tells the reader to.
PKGS="build-essential pkg-config dpkg-dev
libetpan-dev libcurl4-gnutls-dev libcmark-dev libsqlite3-dev libxml2-dev libinih-dev
libgnutls28-dev libidn2-dev libcmocka-dev
dovecot-imapd dovecot-lmtpd postfix swaks libnet-ssleay-perl openssl python3 curl iproute2
valgrind clang nginx-light isync sqlite3"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: not root and no sudo; install these packages:$missing" >&2
	exit 1
fi
# Postfix asks questions on install; answer them so the install never waits.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
