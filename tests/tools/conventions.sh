#!/bin/sh
# The conventions every tool shares: --help, --version, usage errors,
# atomic -o, a closed pipe, a full disk, the C locale, stopping signals.
. "$(dirname "$0")/lib.sh"
D=$T/data-samples
for tool in "$B"/*; do
	[ -x "$tool" ] && [ -f "$tool" ] || continue
	name=$(basename "$tool")
	case $name in *.o) continue ;; esac
	"$tool" --help >"$W/out" 2>"$W/err"
	[ $? -eq 0 ] && grep -q "^usage: $name" "$W/out" && [ ! -s "$W/err" ] ||
		fail "$name --help: usage on stdout, status 0"
	"$tool" --version >"$W/out" 2>&1 && grep -q "^$name (ddk) " "$W/out" ||
		fail "$name --version"
	"$tool" --no-such-option >"$W/out" 2>"$W/err"
	[ $? -eq 2 ] && [ ! -s "$W/out" ] && grep -q "^usage: $name" "$W/err" &&
		grep -q "^$name: --no-such-option: " "$W/err" ||
		fail "$name with a bad option: usage on stderr, status 2"
done

P=$B/ddk-pool
I=$D/fashion-mnist/t10k-images-idx3-ubyte.gz

# -o: a failed run leaves an existing file as it was, and no temporary.
echo precious >"$W/keep"
"$P" -q -o "$W/keep" --idx "$T/tests/data/truncated.idx" 2>/dev/null
[ "$(cat "$W/keep")" = precious ] || fail "-o clobbered a file on failure"
[ -z "$(ls "$W" | grep 'keep\.tmp')" ] || fail "-o left a temporary file"
"$P" -q -o "$W/keep" --idx "$I" && [ "$(head -c 4 "$W/keep")" = DDKS ] ||
	fail "-o did not replace the file on success"

# -o and -m onto a FIFO write into it and leave it a FIFO (a rename of a
# temporary would have replaced it, as it would /dev/null).
mkfifo "$W/fifo"
timeout 20 cat "$W/fifo" >"$W/fifo.out" &
"$P" -q -o "$W/fifo" --idx "$I" || fail "-o FIFO: exit $?"
wait
[ -p "$W/fifo" ] || fail "-o replaced a FIFO"
"$P" -q --idx "$I" >"$W/direct"
cmp -s "$W/fifo.out" "$W/direct" || fail "-o FIFO: other bytes"
printf 'a\tx\t1\t2\t0.1\t0.2\nb\ty\t1\t2\t0.9\t0.8\n' >"$W/t2.tsv"
timeout 20 cat "$W/fifo" >"$W/fifo.json" &
"$B/ddk-train" -q -m "$W/fifo" "$W/t2.tsv" || fail "-m FIFO: exit $?"
wait
[ -p "$W/fifo" ] || fail "-m replaced a FIFO"
grep -q '"format": "ddk-model"' "$W/fifo.json" || fail "-m FIFO: no model"

# A tool stopped by SIGTERM, SIGINT or SIGHUP in the middle of its input
# leaves its -o file as it was and no temporary: the input is a FIFO that
# has had 25 images and stays open, so the tool waits for more with its
# temporary written.
for sig in TERM INT HUP; do
	echo precious >"$W/sig.out"
	rm -f "$W/sig.in"
	mkfifo "$W/sig.in"
	"$P" -q -o "$W/sig.out" --idx "$W/sig.in" 2>"$W/sig.err" &
	pid=$!
	exec 3>"$W/sig.in"
	gzip -dc "$I" | head -c 20000 >&3
	n=0
	until ls "$W" | grep -q 'sig\.out\.tmp' || [ $n -ge 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	ls "$W" | grep -q 'sig\.out\.tmp' || fail "SIG$sig: no temporary yet"
	kill -s "$sig" $pid
	n=0
	while kill -0 $pid 2>/dev/null && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -0 $pid 2>/dev/null && fail "SIG$sig: the tool went on"
	exec 3>&-
	wait $pid 2>/dev/null
	rc=$?
	[ "$(cat "$W/sig.out")" = precious ] || fail "SIG$sig: -o replaced"
	[ -z "$(ls "$W" | grep 'sig\.out\.tmp')" ] ||
		fail "SIG$sig: a temporary left"
	[ $rc -gt 128 ] || fail "SIG$sig: status $rc"
done

# A closed pipe ends the tool quietly; a full disk is an error.
("$P" --idx "$I" 2>"$W/pipe.err"; echo $? >"$W/pipe.rc") | head -c 10 >/dev/null
[ ! -s "$W/pipe.err" ] || fail "closed pipe: $(cat "$W/pipe.err")"
rc=$(cat "$W/pipe.rc")
[ "$rc" -eq 141 ] || [ "$rc" -eq 0 ] || fail "closed pipe: status $rc"
if [ -w /dev/full ]; then
	"$P" -q --idx "$I" >/dev/full 2>"$W/full.err"
	[ $? -eq 1 ] && grep -q "^ddk-pool: stdout: write error" "$W/full.err" ||
		fail "full disk: $(cat "$W/full.err")"
fi

# Numbers are the C locale's whatever the user's (where one is installed).
"$P" -q --idx "$I" -p 3 --tsv | head -3 >"$W/c"
LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8 "$P" -q --idx "$I" -p 3 --tsv 2>/dev/null |
	head -3 >"$W/de"
cmp -s "$W/c" "$W/de" || fail "output depends on the locale"
grep -q ',' "$W/c" && fail "a comma in numbers"

# Progress: plain lines when stderr is not a terminal; -q silences them.
"$P" -q --idx "$I" 2>"$W/q.err" >/dev/null
[ ! -s "$W/q.err" ] || fail "-q still printed: $(cat "$W/q.err")"
finish
