#!/bin/sh
# make install into a DESTDIR gives the tools, libddk.a, the headers, the man
# pages and ddk.pc; a program built against the installed library through
# pkg-config runs; make uninstall takes every file away again.
. "$(dirname "$0")/lib.sh"
O=${DDK_O:-build}
M="make -s -C $T O=$O prefix=/usr DESTDIR=$W/root"
$M install >"$W/log" 2>&1 || { cat "$W/log"; fail "make install"; finish; }
R=$W/root/usr
for f in bin/ddk-pool lib/libddk.a include/ddk.h include/ddk_stream.h \
	share/man/man1/ddk-pool.1 share/man/man5/ddk-stream.5 \
	share/man/man7/ddk.7 lib/pkgconfig/ddk.pc; do
	[ -e "$R/$f" ] || fail "not installed: $f"
done
cat >"$W/use.c" <<'CEOF'
#include <stdio.h>
#include <ddk.h>
int main(void)
{
	ddk_record r;
	ddk_record_init(&r);
	if (ddk_record_set(&r, "k", "l", 1, 2, NULL))
		return 1;
	r.v[0] = 0.5f;
	r.v[1] = 2;
	ddk_write_record(stdout, &r, 1, NULL);
	ddk_record_free(&r);
	return 0;
}
CEOF
# The installed ddk.pc says prefix=/usr; point the compiler at DESTDIR.
# CFLAGS and LDFLAGS come from make: a sanitizer build of libddk.a needs
# the same runtime in the program that links it.
flags=$(PKG_CONFIG_PATH=$R/lib/pkgconfig pkg-config --libs ddk)
${CC:-cc} $CFLAGS -I"$R/include" -o "$W/use" "$W/use.c" -L"$R/lib" \
	$flags $LDFLAGS \
	2>"$W/cc.err" || fail "build against the installed library: $(cat "$W/cc.err")"
[ "$("$W/use")" = "k	l	1	2	0.5	2" ] || fail "installed library output"
$M uninstall >"$W/log" 2>&1 || fail "make uninstall"
left=$(find "$W/root" -type f | head -5)
[ -z "$left" ] || fail "left after uninstall: $left"
finish
