#!/usr/bin/env bash
# mailbed.sh - a private mail system on loopback for the end-to-end tests.
#
# usage: mailbed.sh start|stop|restart|status|env|ps|logs DIR [dovecot|postfix|sink ...]
#
#   start   creates DIR if needed and starts Dovecot, Postfix and smtp-sink (or only the named
#           services).  Idempotent: what already runs is left alone.  Fails loudly, with the
#           log tails, if anything does not come up, and then stops what it started.
#   stop    stops the bed (or the named services) and checks that no process of it is left.
#   status  one line per service and per port; exit 0 only if everything is up.
#   env     prints shell exports (eval "$(mailbed.sh env DIR)"), see below.
#   ps      lists the live processes of the bed: PID SERVICE NAME per line.
#   logs    prints the tail of every log of the bed (MAILBED_LOG_LINES, default 40).
# Must run as root (Postfix's master).  DIR must not contain white space.
#
# What runs (all state in DIR: config, TLS, queue, mail, logs):
#   Dovecot   IMAP (STARTTLS offered, plaintext login allowed) $MAILBED_IMAP_PORT,
#             IMAPS $MAILBED_IMAPS_PORT, LMTP $MAILBED_LMTP_PORT (127.0.0.1 only).
#             passwd-file users, Maildir in DIR/mail/USER/Maildir, recipient_delimiter +,
#             no anvil login penalty, 1000 connections per user.
#   Postfix   SMTP $MAILBED_SMTP_PORT: open to 127.0.0.0/8, no AUTH, STARTTLS offered; mail
#             for the test domain goes to Dovecot's LMTP; other domains get 550 5.1.2 at RCPT.
#             Submission $MAILBED_SUBMISSION_PORT: STARTTLS required, then AUTH (Dovecot SASL).
#             SMTPS $MAILBED_SMTPS_PORT: implicit TLS, AUTH required.
#   smtp-sink $MAILBED_SINK_PORT: accepts and discards (a speed ceiling for benchmarks).
#
# TLS: the bed makes its own test CA (DIR/tls/ca.pem, exported as MAILBED_CA) and:
#   127.0.0.1  cert for localhost + 127.0.0.1, signed by the test CA        -> verifies
#   127.0.0.2  cert for "wrong.example" only, signed by the test CA          -> wrong host name
#   127.0.0.3  cert for localhost + 127.0.0.1 + 127.0.0.3 signed by an unrelated CA
#              (DIR/tls/unknown-ca.pem, MAILBED_UNKNOWN_CA)                  -> unknown CA
# Every TLS service (IMAP STARTTLS, IMAPS, SMTP STARTTLS, submission, smtps) listens on all
# three addresses with the same port numbers, so a test shows a refusal by changing only the
# host of a URL (MAILBED_WRONGNAME_HOST, MAILBED_UNKNOWNCA_HOST).  Linux routes all of
# 127.0.0.0/8 to lo, so no interface set-up is needed.
#
# Knobs (environment, read by start/restart; saved in DIR/mailbed.conf so later commands and
# restarts keep them; an explicitly set variable overrides the saved value):
#   MAILBED_PORT_BASE      first of a block of 7 ports (imap, imaps, lmtp, smtp, submission,
#                          smtps, sink); default: a free block found by probing 20000-31990
#   MAILBED_{IMAP,IMAPS,LMTP,SMTP,SUBMISSION,SMTPS,SINK}_PORT   one port each
#   MAILBED_USERS          "things organiser alice bob carol dave"; NAME or NAME:PASSWORD,
#                          the password defaults to NAME + "pw"
#   MAILBED_DOMAIN         example.test
#   MAILBED_REJECT_UNKNOWN 0: unknown users get a real DSN (multipart/report) from Postfix;
#                          1: Postfix answers 550 5.1.1 at RCPT
#   MAILBED_SINK           1: run smtp-sink; 0: do not
#   MAILBED_NS_PREFIX      Dovecot's personal namespace prefix: "" (folders at the top, the
#                          default) or "INBOX." (folders under the INBOX, as Courier and
#                          Cyrus have them; separator ".")
#   MAILBED_MAIL_UID/GID   owner of the mail (65534)
#
# Every process of a bed is found by a tag, not by pid files: Postfix's and smtp-sink's carry
# MAILBED_BED=DIR in their environment (Postfix passes it on through import_environment),
# Dovecot's carry the bed's instance name in their process titles.  So stop/ps/status see
# children and orphans too, never touch another bed, and do not count zombies as running.
set -u -o pipefail

PROG=mailbed
SERVICES_ALL="dovecot postfix sink"
WRONGNAME_HOST=127.0.0.2
UNKNOWNCA_HOST=127.0.0.3
HOSTS="127.0.0.1 $WRONGNAME_HOST $UNKNOWNCA_HOST"

die() { echo "$PROG: $*" >&2; exit 1; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
T0=$(now_ms)
mark() { [ "${MAILBED_TIMING:-0}" = 1 ] && echo "$PROG: +$(($(now_ms) - T0)) ms $*" >&2; return 0; }

# --- processes -----------------------------------------------------------------------------

# alive PID: exists and is not a zombie (an orphan's zombie can wait 1-3 s for its reaper).
# Builtins only: this runs for every process of the bed, many times per command.
alive() {
	local st
	read -r st < "/proc/$1/stat" 2>/dev/null || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ] && [ "${st%% *}" != X ]
}

# bed_procs [SERVICE...]: "PID SERVICE COMM" for each live process of this bed, optionally
# of these services only.  Postfix and smtp-sink keep the MAILBED_BED=DIR tag in
# /proc/PID/environ; Dovecot wipes its environ, but every Dovecot process title carries the
# instance name (mailbed-HASH/...) and the master's command line the config path.  (A
# zombie's environ and cmdline are empty, so it is never found; grep finds itself, though.)
bed_procs() {
	local f pid comm svc
	{
		grep -lzxF "MAILBED_BED=$DIR" /proc/[0-9]*/environ
		grep -laF -e "$INSTANCE/" -e "$DIR/etc/dovecot.conf" /proc/[0-9]*/cmdline
	} 2>/dev/null | while read -r f; do
		pid=${f#/proc/}; pid=${pid%/*}
		read -r comm < "/proc/$pid/comm" 2>/dev/null || continue
		alive "$pid" || continue
		case $f:$comm in
			*:grep) continue ;;
			*/cmdline:*) svc=dovecot ;;
			*:smtp-sink) svc=sink ;;
			*) svc=postfix ;;
		esac
		if [ $# -gt 0 ]; then
			case " $* " in *" $svc "*) ;; *) continue ;; esac
		fi
		echo "$pid $svc $comm"
	done
}

bed_pids() { bed_procs "$@" | while read -r pid _; do echo "$pid"; done; }

# master_of SERVICE: pid of the service's master process, if it runs.
master_of() {
	local pid svc comm want
	case $1 in dovecot) want=dovecot ;; postfix) want=master ;; sink) want=smtp-sink ;; esac
	while read -r pid svc comm; do
		[ "$comm" = "$want" ] && { echo "$pid"; return 0; }
	done < <(bed_procs "$1")
	return 1
}

# --- ports ---------------------------------------------------------------------------------

listening() { ss -Htln 2>/dev/null | awk '{ print $4 }'; }     # ADDR:PORT per line
listening_ports() { listening | awk '{ n = split($1, a, ":"); print a[n] }' | sort -un; }

# endpoints PORT...: the HOST:PORT pairs a bed listens on for these ports (LMTP and the sink
# only on 127.0.0.1, everything else on all three addresses).
endpoints() {
	local p h
	for p in "$@"; do
		for h in $HOSTS; do
			{ [ "$p" = "$LMTP_PORT" ] || [ "$p" = "$SINK_PORT" ]; } && [ "$h" != 127.0.0.1 ] && continue
			echo "$h:$p"
		done
	done
}

# wait_ports TENTHS PORT...: until every endpoint of these ports listens (checked with ss, so
# the daemons' logs are not filled with probe connections).
wait_ports() {
	local t=$1 i e l missing; shift
	for ((i = 0; i < t * 2; i++)); do
		missing='' l=" $(listening | tr '\n' ' ') "
		for e in $(endpoints "$@"); do case $l in *" $e "*) ;; *) missing="$missing $e" ;; esac; done
		[ -z "$missing" ] && return 0
		sleep 0.05
	done
	echo "$PROG: not listening:$missing" >&2
	return 1
}

# choose_ports: fills the *_PORT variables not given explicitly.  A random block below the
# ephemeral range (32768+) so outgoing connections do not take our ports; the caller holds
# the global lock so that two beds starting at once do not pick the same block.
choose_ports() {
	local used base try p ok
	if [ -n "$IMAP_PORT" ] && [ -n "$IMAPS_PORT" ] && [ -n "$LMTP_PORT" ] && [ -n "$SMTP_PORT" ] &&
	   [ -n "$SUBM_PORT" ] && [ -n "$SMTPS_PORT" ] && [ -n "$SINK_PORT" ]; then
		return 0
	fi
	used=" $(listening_ports | tr '\n' ' ') "
	base=${MAILBED_PORT_BASE:-}
	for ((try = 0; try < 200; try++)); do
		if [ -z "${MAILBED_PORT_BASE:-}" ]; then base=$((20000 + (RANDOM % 1200) * 10)); fi
		ok=1
		for ((p = base; p < base + 7; p++)); do
			case $used in *" $p "*) ok=0; break ;; esac
		done
		[ "$ok" = 1 ] && break
		[ -n "${MAILBED_PORT_BASE:-}" ] && die "ports $base-$((base + 6)) (MAILBED_PORT_BASE) are not all free"
	done
	[ "$ok" = 1 ] || die "no free block of 7 ports found in 20000-31999"
	IMAP_PORT=${IMAP_PORT:-$base}; IMAPS_PORT=${IMAPS_PORT:-$((base + 1))}
	LMTP_PORT=${LMTP_PORT:-$((base + 2))}; SMTP_PORT=${SMTP_PORT:-$((base + 3))}
	SUBM_PORT=${SUBM_PORT:-$((base + 4))}; SMTPS_PORT=${SMTPS_PORT:-$((base + 5))}
	SINK_PORT=${SINK_PORT:-$((base + 6))}
}

# check_free PORT NAME: dies if anything listens on PORT (any address: a wildcard listener
# would make our bind fail too).
check_free() {
	case " $(listening_ports | tr '\n' ' ') " in
		*" $1 "*) die "port $1 ($2) is already in use by another process (set MAILBED_PORT_BASE or MAILBED_*_PORT)" ;;
	esac
}

# --- settings ------------------------------------------------------------------------------

# load_settings MODE: MODE=start merges explicit environment over DIR/mailbed.conf over the
# defaults; any other mode uses only what the bed was started with.
load_settings() {
	local e_imap=${MAILBED_IMAP_PORT:-} e_imaps=${MAILBED_IMAPS_PORT:-} e_lmtp=${MAILBED_LMTP_PORT:-}
	local e_smtp=${MAILBED_SMTP_PORT:-} e_subm=${MAILBED_SUBMISSION_PORT:-}
	local e_smtps=${MAILBED_SMTPS_PORT:-} e_sink=${MAILBED_SINK_PORT:-}
	local e_users=${MAILBED_USERS:-} e_domain=${MAILBED_DOMAIN:-} e_reject=${MAILBED_REJECT_UNKNOWN:-}
	local e_sinkon=${MAILBED_SINK:-} e_uid=${MAILBED_MAIL_UID:-} e_gid=${MAILBED_MAIL_GID:-}
	local e_ns=${MAILBED_NS_PREFIX-unset}
	IMAP_PORT='' IMAPS_PORT='' LMTP_PORT='' SMTP_PORT='' SUBM_PORT='' SMTPS_PORT='' SINK_PORT=''
	USERS="things organiser alice bob carol dave" DOMAIN=example.test REJECT_UNKNOWN=0 SINK=1
	MUID=65534 MGID=65534 NS_PREFIX=
	# shellcheck source=/dev/null
	[ -f "$DIR/mailbed.conf" ] && . "$DIR/mailbed.conf"
	[ "$1" = start ] || return 0
	IMAP_PORT=${e_imap:-$IMAP_PORT} IMAPS_PORT=${e_imaps:-$IMAPS_PORT} LMTP_PORT=${e_lmtp:-$LMTP_PORT}
	SMTP_PORT=${e_smtp:-$SMTP_PORT} SUBM_PORT=${e_subm:-$SUBM_PORT}
	SMTPS_PORT=${e_smtps:-$SMTPS_PORT} SINK_PORT=${e_sink:-$SINK_PORT}
	USERS=${e_users:-$USERS} DOMAIN=${e_domain:-$DOMAIN} REJECT_UNKNOWN=${e_reject:-$REJECT_UNKNOWN}
	SINK=${e_sinkon:-$SINK} MUID=${e_uid:-$MUID} MGID=${e_gid:-$MGID}
	[ "$e_ns" = unset ] || NS_PREFIX=$e_ns
	case $NS_PREFIX in ''|INBOX.) ;; *) die "MAILBED_NS_PREFIX must be empty or INBOX." ;; esac
	case $REJECT_UNKNOWN in 0|1) ;; *) die "MAILBED_REJECT_UNKNOWN must be 0 or 1" ;; esac
	case $SINK in 0|1) ;; *) die "MAILBED_SINK must be 0 or 1" ;; esac
}

save_settings() {
	cat > "$DIR/mailbed.conf.tmp" <<-EOF
	# written by mailbed.sh start; read by every later command on this bed
	IMAP_PORT=$IMAP_PORT IMAPS_PORT=$IMAPS_PORT LMTP_PORT=$LMTP_PORT SMTP_PORT=$SMTP_PORT
	SUBM_PORT=$SUBM_PORT SMTPS_PORT=$SMTPS_PORT SINK_PORT=$SINK_PORT
	USERS="$USERS" DOMAIN=$DOMAIN REJECT_UNKNOWN=$REJECT_UNKNOWN SINK=$SINK MUID=$MUID MGID=$MGID
	NS_PREFIX=$NS_PREFIX
	EOF
	mv -f "$DIR/mailbed.conf.tmp" "$DIR/mailbed.conf"
}

# --- generated files -----------------------------------------------------------------------

make_dirs() {
	local d
	mkdir -p "$DIR"/{etc/postfix,tls,run,log,state/dovecot,state/postfix,spool/postfix,mail} ||
		die "cannot create $DIR"
	chmod 755 "$DIR" "$DIR"/{etc,etc/postfix,run,log,state,spool,mail}
	chmod 700 "$DIR/tls"
	chown postfix "$DIR/state/postfix"   # Postfix's data_directory must belong to mail_owner
	chown "$MUID:$MGID" "$DIR/mail"      # Dovecot creates the homes as the mail uid
	d=$DIR   # dovenull, postfix and the mail uid must be able to reach DIR
	while [ "$d" != / ]; do
		d=$(dirname "$d")
		[ $((0$(stat -c %a "$d") & 1)) -eq 1 ] || die "$d is not searchable by others (o+x): choose another DIR"
	done
}

# gen_cert NAME CN SAN CA: key + certificate signed by CA (ca or unknown-ca) into DIR/tls.
gen_cert() {
	local t=$DIR/tls
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
		-keyout "$t/$1.key" -out "$t/$1.csr" 2>>"$t/openssl.log" &&
	openssl x509 -req -in "$t/$1.csr" -CA "$t/$4.pem" -CAkey "$t/$4.key" -CAcreateserial \
		-days 3650 -out "$t/$1.pem" -extfile <(printf '%s\n' "subjectAltName=$3" \
		"basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth") 2>>"$t/openssl.log" ||
		{ cat "$t/openssl.log" >&2; die "openssl could not make the $1 certificate"; }
	rm -f "$t/$1.csr"
}

gen_ca() { # NAME CN
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
		-subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-keyout "$DIR/tls/$1.key" -out "$DIR/tls/$1.pem" 2>>"$DIR/tls/openssl.log" ||
		{ cat "$DIR/tls/openssl.log" >&2; die "openssl could not make the $1 CA"; }
}

gen_tls() {
	[ -s "$DIR/tls/unknownca.pem" ] && return 0   # made last: its presence means all are there
	gen_ca ca "Things mailbed test CA"
	gen_ca unknown-ca "Unrelated CA nobody trusts"
	gen_cert localhost localhost "DNS:localhost,IP:127.0.0.1" ca
	gen_cert wrongname wrong.example "DNS:wrong.example" ca
	gen_cert unknownca localhost "DNS:localhost,IP:127.0.0.1,IP:$UNKNOWNCA_HOST" unknown-ca
	chmod 644 "$DIR"/tls/*.pem
}

user_names() { local u; for u in $USERS; do echo "${u%%:*}"; done; }
user_password() { # NAME
	local u
	for u in $USERS; do
		[ "${u%%:*}" = "$1" ] || continue
		case $u in *:*) echo "${u#*:}" ;; *) echo "${u}pw" ;; esac
		return 0
	done
	return 1
}

gen_users() {
	local n
	for n in $(user_names); do
		case $n in *[!a-z0-9._-]*|'') die "bad user name '$n' in MAILBED_USERS" ;; esac
		echo "$n:{PLAIN}$(user_password "$n"):$MUID:$MGID::$DIR/mail/$n::"
	done > "$DIR/etc/users.tmp"
	chgrp dovecot "$DIR/etc/users.tmp" && chmod 640 "$DIR/etc/users.tmp"
	mv -f "$DIR/etc/users.tmp" "$DIR/etc/users"
	# known local parts, for MAILBED_REJECT_UNKNOWN=1 (regexp tables see the whole address,
	# +detail included)
	printf '/^(%s)(\\+[^@]*)?@%s$/ OK\n' "$(user_names | paste -sd'|')" "${DOMAIN//./\\.}" \
		> "$DIR/etc/postfix/recipients.regexp"
}

gen_dovecot() {
	cat > "$DIR/etc/dovecot.conf" <<-EOF
	# generated by mailbed.sh: private Dovecot, loopback only
	protocols = imap lmtp
	listen = ${HOSTS// /, }
	base_dir = $DIR/run/dovecot
	state_dir = $DIR/state/dovecot
	instance_name = $INSTANCE
	log_path = $DIR/log/dovecot.log
	import_environment = TZ CORE_OUTOFMEM CORE_ERROR LISTEN_PID LISTEN_FDS MAILBED_BED=$DIR
	default_internal_user = dovecot
	default_login_user = dovenull
	default_process_limit = 1000
	default_client_limit = 4000
	first_valid_uid = $((MUID < 500 ? MUID : 500))
	mail_location = maildir:~/Maildir
	mail_fsync = never
	recipient_delimiter = +
	lmtp_save_to_detail_mailbox = no
	ssl = yes
	ssl_cert = <$DIR/tls/localhost.pem
	ssl_key = <$DIR/tls/localhost.key
	local $WRONGNAME_HOST {
	  ssl_cert = <$DIR/tls/wrongname.pem
	  ssl_key = <$DIR/tls/wrongname.key
	}
	local $UNKNOWNCA_HOST {
	  ssl_cert = <$DIR/tls/unknownca.pem
	  ssl_key = <$DIR/tls/unknownca.key
	}
	disable_plaintext_auth = no
	auth_mechanisms = plain login
	auth_failure_delay = 0
	passdb {
	  driver = passwd-file
	  args = scheme=PLAIN username_format=%n $DIR/etc/users
	}
	userdb {
	  driver = passwd-file
	  args = username_format=%n $DIR/etc/users
	}
	namespace inbox {
	  inbox = yes
	  separator = .
	  prefix = $NS_PREFIX
	  mailbox Sent {
	    special_use = \\Sent
	    auto = subscribe
	  }
	  mailbox Trash {
	    special_use = \\Trash
	    auto = subscribe
	  }
	}
	protocol imap {
	  mail_max_userip_connections = 1000
	}
	service imap-login {
	  inet_listener imap {
	    port = $IMAP_PORT
	  }
	  inet_listener imaps {
	    port = $IMAPS_PORT
	    ssl = yes
	  }
	}
	service lmtp {
	  inet_listener lmtp {
	    address = 127.0.0.1
	    port = $LMTP_PORT
	  }
	}
	service auth {
	  unix_listener auth-postfix {
	    mode = 0666
	  }
	}
	# no brute-force penalty: after one failed login, later logins would wait 4-15 s
	service anvil {
	  unix_listener anvil-auth-penalty {
	    mode = 0
	  }
	}
	EOF
}

# postfix_listener HOST PORT KIND: one master.cf entry; KIND smtp, submission or smtps.
postfix_listener() {
	local cert=localhost
	case $1 in "$WRONGNAME_HOST") cert=wrongname ;; "$UNKNOWNCA_HOST") cert=unknownca ;; esac
	echo "$1:$2 inet n - n - - smtpd"
	echo "  -o syslog_name=postfix/$3"
	echo "  -o smtpd_tls_chain_files=$DIR/tls/$cert.key,$DIR/tls/$cert.pem"
	case $3 in
		submission) printf '%s\n' "  -o smtpd_tls_security_level=encrypt" \
			"  -o smtpd_sasl_auth_enable=yes" "  -o smtpd_tls_auth_only=yes" \
			"  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject" ;;
		smtps) printf '%s\n' "  -o smtpd_tls_wrappermode=yes" "  -o smtpd_sasl_auth_enable=yes" \
			"  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject" ;;
	esac
}

gen_postfix() {
	local pc=$DIR/etc/postfix h recipient_maps=
	[ "$REJECT_UNKNOWN" = 1 ] && recipient_maps="regexp:$pc/recipients.regexp"
	cat > "$pc/main.cf" <<-EOF
	# generated by mailbed.sh: private Postfix, loopback only
	compatibility_level = 3.6
	queue_directory = $DIR/spool/postfix
	data_directory = $DIR/state/postfix
	import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME MAILBED_BED=$DIR
	mail_owner = postfix
	setgid_group = postdrop
	maillog_file = $DIR/log/postfix.log
	maillog_file_prefixes = $DIR/log
	myhostname = mailbed.test
	mydomain = mailbed.test
	myorigin = \$myhostname
	mydestination =
	local_recipient_maps =
	local_transport = error:5.1.1 local delivery disabled
	alias_maps =
	alias_database =
	inet_interfaces = 127.0.0.1
	inet_protocols = ipv4
	mynetworks = 127.0.0.0/8
	relay_domains = $DOMAIN
	relay_recipient_maps = $recipient_maps
	relay_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
	default_transport = error:5.1.2 the mail bed delivers only to $DOMAIN
	recipient_delimiter = +
	smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
	smtpd_sasl_auth_enable = no
	smtpd_sasl_type = dovecot
	smtpd_sasl_path = $DIR/run/dovecot/auth-postfix
	smtpd_tls_security_level = may
	smtpd_tls_chain_files = $DIR/tls/localhost.key, $DIR/tls/localhost.pem
	smtpd_peername_lookup = no
	smtpd_error_sleep_time = 0
	smtpd_client_connection_count_limit = 0
	default_process_limit = 200
	smtp_dns_support_level = disabled
	smtp_host_lookup = native
	lmtp_host_lookup = native
	queue_run_delay = 5s
	minimal_backoff_time = 5s
	maximal_backoff_time = 10s
	message_size_limit = 52428800
	biff = no
	EOF
	{
		echo "# generated by mailbed.sh: no chroot, loopback listeners only"
		for h in $HOSTS; do
			postfix_listener "$h" "$SMTP_PORT" smtp
			postfix_listener "$h" "$SUBM_PORT" submission
			postfix_listener "$h" "$SMTPS_PORT" smtps
		done
		cat <<-EOF
		pickup    unix  n - n 60 1 pickup
		cleanup   unix  n - n - 0 cleanup
		qmgr      unix  n - n 300 1 qmgr
		tlsmgr    unix  - - n 1000? 1 tlsmgr
		rewrite   unix  - - n - - trivial-rewrite
		bounce    unix  - - n - 0 bounce
		defer     unix  - - n - 0 bounce
		trace     unix  - - n - 0 bounce
		verify    unix  - - n - 1 verify
		flush     unix  n - n 1000? 0 flush
		proxymap  unix  - - n - - proxymap
		proxywrite unix - - n - 1 proxymap
		smtp      unix  - - n - - smtp
		relay     unix  - - n - - smtp
		showq     unix  n - n - - showq
		error     unix  - - n - - error
		retry     unix  - - n - - error
		discard   unix  - - n - - discard
		lmtp      unix  - - n - - lmtp
		anvil     unix  - - n - 1 anvil
		scache    unix  - - n - 1 scache
		postlog   unix-dgram n - n - 1 postlogd
		EOF
	} > "$pc/master.cf"
	# Postfix does not trust a config file whose mtime is the current second and re-reads it
	# every 300 ms until it is older: backdate, or startup stalls 1-3 s.
	touch -d "@$(($(date +%s) - 5))" "$pc/main.cf" "$pc/master.cf" "$pc/recipients.regexp"
}

# --- services ------------------------------------------------------------------------------

log_tails() {
	local f
	for f in "$DIR"/log/*.log; do
		[ -s "$f" ] || continue
		echo "---- $f (last ${1:-20} lines)"
		tail -n "${1:-20}" "$f"
	done
}

start_failed() { # MESSAGE
	echo "$PROG: $1" >&2
	log_tails 25 >&2
	do_stop >/dev/null 2>&1
	exit 1
}

start_dovecot() {
	if master_of dovecot >/dev/null; then echo "dovecot: already running"; return 0; fi
	gen_dovecot
	# a master killed a moment ago may still be a zombie: Dovecot would take it for alive
	rm -f "$DIR/run/dovecot/master.pid"
	# Dovecot keeps stdio open: keep it off the caller's pipes.
	MAILBED_BED=$DIR dovecot -c "$DIR/etc/dovecot.conf" < /dev/null >> "$DIR/log/dovecot-start.log" 2>&1 {LOCK}>&- ||
		start_failed "dovecot failed to start"
	wait_ports 50 "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT" ||
		start_failed "dovecot did not open its ports within 5 s"
}

start_postfix() {
	if master_of postfix >/dev/null; then echo "postfix: already running"; return 0; fi
	[ -S "$DIR/run/dovecot/auth-postfix" ] || start_failed "postfix needs Dovecot's auth socket: start dovecot first"
	gen_postfix
	rm -f "$DIR/spool/postfix/pid/master.pid"
	MAILBED_BED=$DIR postfix -c "$DIR/etc/postfix" start < /dev/null >> "$DIR/log/postfix-start.log" 2>&1 {LOCK}>&- ||
		start_failed "postfix failed to start"
	wait_ports 50 "$SMTP_PORT" "$SUBM_PORT" "$SMTPS_PORT" ||
		start_failed "postfix did not open its ports within 5 s"
}

start_sink() {
	[ "$SINK" = 1 ] || return 0
	if master_of sink >/dev/null; then echo "sink: already running"; return 0; fi
	MAILBED_BED=$DIR setsid smtp-sink -u nobody "127.0.0.1:$SINK_PORT" 1000 \
		< /dev/null >> "$DIR/log/smtp-sink.log" 2>&1 {LOCK}>&- &
	wait_ports 50 "$SINK_PORT" || start_failed "smtp-sink did not open its port within 5 s"
}

# --- commands ------------------------------------------------------------------------------

do_start() {
	local svc
	# Dovecot's sockets live under DIR/run/dovecot; a unix socket path has at most 107 bytes
	[ ${#DIR} -le 60 ] || die "DIR is too long (${#DIR} > 60 characters) for Dovecot's socket paths: $DIR"
	mkdir -p "$DIR" || die "cannot create $DIR"
	load_settings start
	# One bed at a time chooses ports and binds them, machine-wide.
	exec {LOCK}> "${TMPDIR:-/tmp}/mailbed-ports.lock" || die "cannot open the port lock"
	flock -w 60 "$LOCK" || die "timed out waiting for the port lock"
	mark locked
	choose_ports
	# check every port before starting anything, so a clash leaves nothing half-started
	for svc in $SERVICES; do
		master_of "$svc" >/dev/null && continue
		# children left by a master that died would hold the ports: stop them first
		[ -n "$(bed_pids "$svc")" ] && { echo "$svc: stopping what is left of a dead master"; SERVICES=$svc do_stop; }
		case $svc in
			dovecot) check_free "$IMAP_PORT" imap; check_free "$IMAPS_PORT" imaps; check_free "$LMTP_PORT" lmtp ;;
			postfix) check_free "$SMTP_PORT" smtp; check_free "$SUBM_PORT" submission; check_free "$SMTPS_PORT" smtps ;;
			sink) [ "$SINK" = 0 ] || check_free "$SINK_PORT" smtp-sink ;;
		esac
	done
	make_dirs
	save_settings
	gen_tls
	mark tls
	gen_users
	# Dovecot first: Postfix's smtpd needs its SASL socket.
	for svc in $SERVICES_ALL; do
		case " $SERVICES " in *" $svc "*) "start_$svc"; mark "$svc" ;; esac
	done
	exec {LOCK}>&-
	do_status >/dev/null || { do_status >&2; start_failed "not everything came up"; }
	printf '%s: up in %d ms (%s), ports imap %s imaps %s lmtp %s smtp %s submission %s smtps %s sink %s\n' \
		"$PROG" $(($(now_ms) - T0)) "$DIR" "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT" "$SMTP_PORT" \
		"$SUBM_PORT" "$SMTPS_PORT" "$SINK_PORT"
}

# do_stop: TERM every process of the bed at once (Dovecot's master alone needs ~1 s to take
# its children down; together they stop at once), then KILL what is left.  Succeeds only when
# no process of the bed is left (zombies waiting for their reaper do not count).
do_stop() {
	local svc pid pids i
	for svc in $SERVICES; do
		pid=$(master_of "$svc") && echo "$svc: stopping (master pid $pid)"
	done
	pids=$(bed_pids $SERVICES)
	[ -n "$pids" ] && kill -TERM $pids 2>/dev/null
	for ((i = 0; i < 60 && ${#pids}; i++)); do
		sleep 0.05
		pids=$(bed_pids $SERVICES)
	done
	if [ -n "$pids" ]; then
		echo "$PROG: still alive after 3 s, killing: $(ps_line $pids)" >&2
		kill -KILL $pids 2>/dev/null
		for ((i = 0; i < 40 && ${#pids}; i++)); do
			sleep 0.05
			pids=$(bed_pids $SERVICES)
		done
	fi
	[ -z "$pids" ] || die "processes of the bed survive SIGKILL: $(ps_line $pids)"
	# stale pid files would make a later start complain
	case " $SERVICES " in *" postfix "*) rm -f "$DIR/spool/postfix/pid/master.pid" ;; esac
	case " $SERVICES " in *" dovecot "*) rm -f "$DIR/run/dovecot/master.pid" ;; esac
	return 0
}

ps_line() { local p c; for p in "$@"; do read -r c < "/proc/$p/comm" 2>/dev/null; printf '%s(%s) ' "$p" "${c:-?}"; done; }

do_status() {
	local rc=0 svc pid p e name l
	l=" $(listening | tr '\n' ' ') "
	for svc in $SERVICES; do
		[ "$svc" = sink ] && [ "$SINK" = 0 ] && continue
		if pid=$(master_of "$svc"); then
			echo "$svc running, master pid $pid"
		else
			echo "$svc stopped"; rc=1
		fi
	done
	for p in imap:$IMAP_PORT imaps:$IMAPS_PORT lmtp:$LMTP_PORT smtp:$SMTP_PORT \
		submission:$SUBM_PORT smtps:$SMTPS_PORT sink:$SINK_PORT; do
		name=${p%%:*}; p=${p#*:}
		case $name in
			imap|imaps|lmtp) svc=dovecot ;; sink) svc=sink ;; *) svc=postfix ;;
		esac
		case " $SERVICES " in *" $svc "*) ;; *) continue ;; esac
		[ "$svc" = sink ] && [ "$SINK" = 0 ] && continue
		for e in $(endpoints "$p"); do
			case $l in *" $e "*) echo "  $name $e listening" ;; *) echo "  $name $e CLOSED"; rc=1 ;; esac
		done
	done
	return $rc
}

do_env() {
	local n
	cat <<-EOF
	export MAILBED_DIR=$DIR MAILBED_DOMAIN=$DOMAIN MAILBED_HOST=127.0.0.1
	export MAILBED_WRONGNAME_HOST=$WRONGNAME_HOST MAILBED_UNKNOWNCA_HOST=$UNKNOWNCA_HOST
	export MAILBED_IMAP_PORT=$IMAP_PORT MAILBED_IMAPS_PORT=$IMAPS_PORT MAILBED_LMTP_PORT=$LMTP_PORT
	export MAILBED_SMTP_PORT=$SMTP_PORT MAILBED_SUBMISSION_PORT=$SUBM_PORT MAILBED_SMTPS_PORT=$SMTPS_PORT
	export MAILBED_SINK_PORT=$SINK_PORT MAILBED_SINK=$SINK MAILBED_REJECT_UNKNOWN=$REJECT_UNKNOWN
	export MAILBED_NS_PREFIX=$NS_PREFIX
	export MAILBED_CA=$DIR/tls/ca.pem MAILBED_UNKNOWN_CA=$DIR/tls/unknown-ca.pem
	export MAILBED_MAIL=$DIR/mail MAILBED_LOGS=$DIR/log
	EOF
	printf 'export MAILBED_USERS="%s"\n' "$(for n in $(user_names); do printf '%s:%s ' "$n" "$(user_password "$n")"; done | sed 's/ $//')"
}

CMD=${1:-}
[ $# -ge 2 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
case $2 in *[[:space:]]*) die "DIR must not contain white space" ;; esac
DIR=$(realpath -m -- "$2")
[ "$DIR" != / ] || die "DIR must not be /"
INSTANCE=mailbed-$(printf %s "$DIR" | md5sum | cut -c1-16)
shift 2
SERVICES=${*:-$SERVICES_ALL}
for s in $SERVICES; do
	case " $SERVICES_ALL " in *" $s "*) ;; *) die "unknown service '$s' (dovecot, postfix, sink)" ;; esac
done
case $CMD in
	start|restart|stop) [ "$(id -u)" = 0 ] || die "must run as root (Postfix's master needs root)" ;;
esac
for c in dovecot postfix smtp-sink openssl ss flock; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing (packages: dovecot-imapd dovecot-lmtpd postfix openssl iproute2; see tools/deps.sh)"
done
case $CMD in
	start) do_start ;;
	stop) load_settings stop; do_stop ;;
	restart) load_settings stop; do_stop && do_start ;;
	status) [ -f "$DIR/mailbed.conf" ] || die "no bed in $DIR"; load_settings status; do_status ;;
	env) [ -f "$DIR/mailbed.conf" ] || die "no bed in $DIR"; load_settings env; do_env ;;
	ps) bed_procs $SERVICES ;;
	logs) log_tails "${MAILBED_LOG_LINES:-40}" ;;
	*) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
