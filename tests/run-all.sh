#!/bin/sh
# Run each test program or script given, count them, and close with the
# line "N passed, N failed".  A script that exits 77 is skipped.
# Environment: DDK_BIN (folder of the built tools), DDK_TOP (the checkout).
pass=0 fail=0 skip=0 failed=
for t in "$@"; do
	case $t in
	*.sh) sh "$t" ;;
	*) "$t" ;;
	esac
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1)); echo "SKIP: $t"
	else
		fail=$((fail + 1)); failed="$failed $t"; echo "FAIL: $t"
	fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
