#!/bin/sh
# ddk-pool against independent NumPy computations of the same maps, and the
# NumPy reader printed in ddk-stream(5).
. "$(dirname "$0")/lib.sh"
D=$T/data-samples
P=$B/ddk-pool
if ! "$PY" -c 'import numpy' 2>/dev/null; then
	echo "pool.sh: no numpy for $PY"; exit 77
fi

# The reader from the man page, as a module.
sed -n '/numpy-reader-begin/,/numpy-reader-end/p' "$T/man/ddk-stream.5" |
	sed -e '/^\./d' -e 's/\\e/\\/g' >"$W/ddkstream.py"
export PYTHONPATH=$W

# 1. Sound: 8 kHz WAV, -l 24000 -u 8 -p 30, against a NumPy recipe, on the
# short speech files and on the KLettres voices.
for m in speech8k/manifest.tsv klettres/train.tsv klettres/test.tsv; do
	"$P" -q -l 24000 -u 8 -p 30 --manifest "$D/$m" >"$W/speech.ddk" ||
		fail "pool $m"
	"$PY" - "$D/$m" "$W/speech.ddk" <<'PYEOF' || fail "$m: maps differ"
import os, sys, wave, numpy as np, ddkstream
mfile, stream = sys.argv[1], sys.argv[2]
folder = os.path.dirname(mfile)
manifest = [l.rstrip("\n").split("\t") for l in open(mfile)]
recs = list(ddkstream.read_records(open(stream, "rb")))
assert len(recs) == len(manifest), (len(recs), len(manifest))
worst = 0.0
for (path, label), (key, lab, x) in zip(manifest, recs):
    w = wave.open(folder + "/" + path)
    assert w.getframerate() == 8000 and w.getsampwidth() == 2, path
    assert w.getnchannels() == 1 or "speech8k" in mfile, path
    raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    s = (raw.astype(np.float64) / 32768.0).reshape(-1, w.getnchannels())
    s = s.mean(axis=1)[:24000]
    s = np.concatenate([s, np.zeros(24000 - len(s))])
    m = s.reshape(8, 3000).reshape(8, 100, 30).mean(axis=2)
    lo, hi = m.min(axis=1, keepdims=True), m.max(axis=1, keepdims=True)
    m = np.where(hi > lo, (m - lo) / np.where(hi > lo, hi - lo, 1), 0)
    assert key == path and lab == label and x.shape == (8, 100), key
    worst = max(worst, float(np.abs(x - m).max()))
print("%s: largest difference %.3g" % (mfile, worst))
sys.exit(0 if worst <= 1e-6 else 1)
PYEOF
done

# 2. Fashion-MNIST: every value is pixel/255, labels from the label file.
F=/usr/share/datasets/fashion-mnist
if [ -f $F/t10k-images-idx3-ubyte.gz ]; then
	"$P" -q --idx $F/t10k-images-idx3-ubyte.gz \
		--labels $F/t10k-labels-idx1-ubyte.gz >"$W/fm.ddk" ||
		fail "pool fashion-mnist"
	"$PY" - $F "$W/fm.ddk" <<'PYEOF' || fail "fashion-mnist maps differ"
import sys, gzip, numpy as np, ddkstream
f, stream = sys.argv[1], sys.argv[2]
img = np.frombuffer(gzip.open(f + "/t10k-images-idx3-ubyte.gz").read()[16:],
                    dtype=np.uint8).reshape(-1, 28, 28)
lab = np.frombuffer(gzip.open(f + "/t10k-labels-idx1-ubyte.gz").read()[8:],
                    dtype=np.uint8)
n = 0
for i, (key, label, x) in enumerate(ddkstream.read_records(open(stream, "rb"))):
    want = (img[i] / 255.0).astype(np.float32)
    assert x.shape == (28, 28) and (x == want).all(), key
    assert label == str(lab[i]) and key == "t10k-images-idx3-ubyte.gz#%d" % i
    n += 1
assert n == 10000, n
print("fashion-mnist: %d records of 28 x 28, exact" % n)
PYEOF
	# The committed subset is what its script makes from these files.
	sh "$D/fashion-mnist/make-subset.sh" "$W/fms" $F ||
		fail "make-subset.sh"
	for f in train-images-idx3 train-labels-idx1 t10k-images-idx3 \
		t10k-labels-idx1; do
		gzip -dc "$W/fms/$f-ubyte.gz" >"$W/fms.a" &&
			gzip -dc "$D/fashion-mnist/$f-ubyte.gz" >"$W/fms.b" &&
			cmp -s "$W/fms.a" "$W/fms.b" ||
			fail "data-samples/fashion-mnist/$f-ubyte.gz differs"
	done
	[ "$(gzip -dc "$D/fashion-mnist/train-images-idx3-ubyte.gz" |
		wc -c)" -eq $((16 + 2000 * 784)) ] || fail "not 2000 train images"
else
	echo "pool.sh: $F absent, full Fashion-MNIST check skipped"
fi

# 3. The text form holds the same numbers as the binary form, and -o
#    writes what stdout would have.
I=$D/fashion-mnist/t10k-images-idx3-ubyte.gz
L=$D/fashion-mnist/t10k-labels-idx1-ubyte.gz
"$P" -q --idx "$I" --labels "$L" -p 2 --pool-op max >"$W/a.ddk"
"$P" -q --idx "$I" --labels "$L" -p 2 --pool-op max -o "$W/b.ddk"
cmp -s "$W/a.ddk" "$W/b.ddk" || fail "-o differs from stdout"
"$P" -q --idx "$I" --labels "$L" -p 2 --pool-op max --tsv >"$W/a.tsv"
"$PY" - "$W/a.ddk" "$W/a.tsv" <<'PYEOF' || fail "text and binary differ"
import sys, numpy as np, ddkstream
recs = list(ddkstream.read_records(open(sys.argv[1], "rb")))
lines = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])]
assert len(recs) == len(lines) == 500
for (key, label, x), f in zip(recs, lines):
    assert f[:4] == [key, label, "28", "14"], f[:4]
    assert (np.array(f[4:], dtype=np.float32) == x.ravel()).all(), key
PYEOF

# 4. NumPy arrays: uint8 2-D, float32 3-D, float64 4-D, with labels.
"$PY" - "$W" <<'PYEOF' || fail "writing .npy files"
import sys, numpy as np
w = sys.argv[1]
r = np.random.default_rng(1)
np.save(w + "/u8.npy", r.integers(0, 256, (5, 12), dtype=np.uint8))
np.save(w + "/f4.npy", r.random((3, 2, 12), dtype=np.float32))
np.save(w + "/f8.npy", r.random((2, 2, 3, 12)))
np.save(w + "/lab.npy", np.array([4, 3, 2], dtype=np.int64))
PYEOF
"$P" -q --npy "$W/u8.npy" -p 3 --pool-op rms >"$W/u8.ddk" || fail "u8.npy"
"$P" -q --npy "$W/f4.npy" --labels "$W/lab.npy" -p 4 >"$W/f4.ddk" ||
	fail "f4.npy"
"$P" -q --npy "$W/f8.npy" -l 10 -p 5 --normalize row >"$W/f8.ddk" ||
	fail "f8.npy"
# float arrays have no fixed range: full scales each whole map
"$P" -q --npy "$W/f4.npy" -p 4 --normalize full >"$W/f4full.ddk" ||
	fail "f4.npy --normalize full"
"$PY" - "$W" <<'PYEOF' || fail ".npy maps differ"
import sys, numpy as np, ddkstream
w = sys.argv[1]
def recs(name):
    return list(ddkstream.read_records(open(w + "/" + name, "rb")))
u8 = np.load(w + "/u8.npy").astype(np.float64)
for i, (k, l, x) in enumerate(recs("u8.ddk")):
    want = np.sqrt((u8[i].reshape(4, 3) ** 2).mean(axis=1)) / 255
    assert x.shape == (1, 4) and np.abs(x[0] - want).max() < 1e-6, k
f4 = np.load(w + "/f4.npy").astype(np.float64)
r = recs("f4.ddk")
assert [l for k, l, x in r] == ["4", "3", "2"]
for i, (k, l, x) in enumerate(r):
    assert k == "f4.npy#%d" % i and x.shape == (2, 3)
    assert np.abs(x - f4[i].reshape(2, 3, 4).mean(axis=2)).max() < 1e-6
full = recs("f4full.ddk")
for i, (k, l, x) in enumerate(full):
    m = f4[i].reshape(2, 3, 4).mean(axis=2)
    want = (m - m.min()) / (m.max() - m.min())
    assert np.abs(x - want).max() < 1e-6, k
assert len(full) == 3
f8 = np.load(w + "/f8.npy")
for i, (k, l, x) in enumerate(recs("f8.ddk")):
    m = f8[i].reshape(6, 12)[:, :10].reshape(6, 2, 5).mean(axis=2)
    lo, hi = m.min(axis=1, keepdims=True), m.max(axis=1, keepdims=True)
    assert x.shape == (6, 2) and np.abs(x - (m - lo) / (hi - lo)).max() < 1e-6
PYEOF

# 4b. Every element type NumPy and IDX have for numbers, in both byte
# orders, as data (values kept with --normalize none; the default scales
# integers and bools by their type's range, floats not at all) and as
# labels.
"$PY" - "$W" <<'PYEOF' || fail "writing typed arrays"
import struct, sys, numpy as np
w = sys.argv[1]
r = np.random.default_rng(2)
v = r.normal(0, 1, (3, 2, 8))
types = ["u1", "i1", "<u2", ">u2", "<i2", ">i2", "<u4", ">i4", "<i8", ">u8",
         "<f2", ">f2", "<f4", ">f4", ">f8", "?"]
def name(t):
    return t.replace("<", "le").replace(">", "be").replace("?", "bool")
for t in types:
    d = np.dtype(t)
    if d.kind in "iu":
        # random values, and the type's two extremes
        i = np.iinfo(d)
        a = r.integers(i.min, i.max, v.shape, dtype=d.newbyteorder("="))
        a.flat[:2] = i.min, i.max
        np.save("%s/l-%s.npy" % (w, name(t)),
                np.array([7, 0, i.max if d.kind == "u" else i.min], d))
    else:
        a = v > 0 if d.kind == "b" else v * 100
    np.save("%s/t-%s.npy" % (w, name(t)), a.astype(d))
# IDX, big-endian: signed bytes, shorts, ints; labels of shorts
for code, t in ((0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4")):
    i = np.iinfo(t)
    a = r.integers(i.min, i.max, (3, 2, 8)).astype(t)
    open("%s/x-%02x.idx" % (w, code), "wb").write(
        struct.pack(">BBBB3I", 0, 0, code, 3, 3, 2, 8) + a.tobytes())
open(w + "/lab.idx", "wb").write(struct.pack(">BBBBI", 0, 0, 0x0B, 1, 3) +
                                 np.array([-2, 300, 5], ">i2").tobytes())
# half floats at their edges (subnormal, largest, infinite, NaN), and the
# .npy header versions 2 and 3 (four-byte header lengths)
np.save(w + "/h-edges.npy", np.array([[6e-8, -6.1e-5, 65504, 0.333],
                                      [-np.inf, np.inf, np.nan, -0.0]], ">f2"))
with open(w + "/v-2.npy", "wb") as f:
    np.lib.format.write_array(f, np.arange(-6, 6, dtype="<i2").reshape(2, 6),
                              version=(2, 0))
with open(w + "/v-3.npy", "wb") as f:
    np.lib.format.write_array(f, np.arange(12, dtype=">u4").reshape(2, 6),
                              version=(3, 0))
open(w + "/lab.txt", "w").write("cat\n\ndog\n")
PYEOF
for f in h-edges v-2 v-3; do
	"$P" -q --npy "$W/$f.npy" --normalize none >"$W/$f.none" ||
		fail "reading $f.npy"
done
"$P" -q --npy "$W/t-u1.npy" --labels "$W/lab.txt" --tsv | cut -f 1,2 \
	>"$W/lab.got" || fail "text labels"
printf 't-u1.npy#%s\t%s\n' 0 cat 1 '' 2 dog | cmp -s - "$W/lab.got" ||
	fail "text labels: $(cat "$W/lab.got")"
for f in "$W"/t-*.npy "$W"/x-*.idx; do
	case $f in *.npy) how=--npy ;; *) how=--idx ;; esac
	l=$(echo "$f" | sed 's|/t-|/l-|')
	[ "$l" != "$f" ] && [ -f "$l" ] || l=$W/lab.idx
	"$P" -q "$how" "$f" --labels "$l" --normalize none >"$f.none" &&
	"$P" -q "$how" "$f" >"$f.dflt" || fail "reading $f"
done
"$PY" - "$W" <<'PYEOF' || fail "typed arrays differ"
import glob, sys, numpy as np, ddkstream
w = sys.argv[1]
def recs(name):
    return list(ddkstream.read_records(open(name, "rb")))
def idx(name):
    b = open(name, "rb").read()
    t = {0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4"}[b[2]]
    return np.frombuffer(b[16:], t).reshape(3, 2, 8)
files = glob.glob(w + "/t-*.npy") + glob.glob(w + "/x-*.idx")
assert len(files) == 19, files
for f in files:
    a = np.load(f) if f.endswith(".npy") else idx(f)
    want = a.astype(np.float64).astype(np.float32)
    got = recs(f + ".none")
    lf = f.replace("/t-", "/l-")
    lab = np.load(lf) if f.endswith(".npy") and "/t-" in f and \
        glob.glob(lf) else np.array([-2, 300, 5])
    assert len(got) == 3, f
    for i, (k, l, x) in enumerate(got):
        assert k == f.rsplit("/", 1)[1] + "#%d" % i, (f, k)
        assert l == str(lab[i]), (f, l, lab[i])
        assert (x == want[i]).all(), (f, i, x, want[i])
    # the default: a type range for bools and integers
    d = a.dtype
    if d.kind == "b":
        lo, hi = 0, 1
    elif d.kind in "iu":
        lo, hi = np.iinfo(d).min, np.iinfo(d).max
    else:
        lo = hi = None
    for i, (k, l, x) in enumerate(recs(f + ".dflt")):
        if lo is None:
            assert (x == want[i]).all(), f
        else:
            m = (a[i].astype(np.float64) - lo) / (hi - lo)
            assert np.abs(x - m).max() < 1e-6, (f, x, m)
for f in ("h-edges", "v-2", "v-3"):
    a = np.load(w + "/" + f + ".npy").astype(np.float32)
    got = recs(w + "/" + f + ".none")
    assert len(got) == a.shape[0], f
    x = np.concatenate([r[2] for r in got]).reshape(a.shape)
    assert np.array_equal(x, a, equal_nan=True), (f, x, a)
PYEOF

# Arrays in Fortran order (np.save of a transposed array writes them) give
# the maps of the same array in C order, gzipped or not, with labels in
# Fortran order too.
mkdir "$W/F" "$W/C"
"$PY" - "$W" <<'PYEOF' || fail "writing Fortran-order arrays"
import gzip, sys, numpy as np
w = sys.argv[1]
r = np.random.default_rng(4)
arrays = {"u1": r.integers(0, 256, (9, 13), dtype=np.uint8),
          "f4": r.normal(0, 1, (5, 3, 7)).astype(">f4"),
          "f8": r.random((4, 3, 2, 6)),
          "i2": r.integers(-999, 999, (6, 2, 5), dtype="<i2"),
          "big": r.random((300, 20, 30))}   # 1.4 MB: read in two parts
for n, a in arrays.items():
    np.save("%s/C/%s.npy" % (w, n), a)
    f = np.asfortranarray(a)
    assert f.flags.f_contiguous and not f.flags.c_contiguous
    np.save("%s/F/%s.npy" % (w, n), f)
    assert b"'fortran_order': True" in open("%s/F/%s.npy" % (w, n),
                                            "rb").read(128)
gzip.open(w + "/F/gz.npy", "wb").write(open(w + "/F/f8.npy", "rb").read())
gzip.open(w + "/C/gz.npy", "wb").write(open(w + "/C/f8.npy", "rb").read())
np.save(w + "/lab6.npy", np.asfortranarray(np.array([3, 1, 4, 1, 5, 9])))
PYEOF
for n in u1 f4 f8 i2 big gz; do
	for o in F C; do
		(cd "$W/$o" && "$P" -q --npy $n.npy -p 2 >"$W/$o.$n" &&
		 "$P" -q --npy $n.npy --normalize none --tsv >>"$W/$o.$n") ||
			fail "Fortran order: $o/$n.npy"
	done
	cmp -s "$W/F.$n" "$W/C.$n" || fail "Fortran order: $n.npy differs"
done
(cd "$W/F" && "$P" -q --npy i2.npy --labels "$W/lab6.npy" --tsv) |
	cut -f 2 | tr '\n' ' ' >"$W/F.lab"
[ "$(cat "$W/F.lab")" = "3 1 4 1 5 9 " ] ||
	fail "Fortran-order labels: $(cat "$W/F.lab")"

# 5. Windows: keys path#k, whole windows only; stdin reads a sound too.
"$P" -q --window 4000 --hop 2000 -p 40 "$D/speech8k/fr-a-10.wav" --tsv |
	cut -f 1,3,4 >"$W/win"
printf '%s\n' 0 1 2 3 4 | sed "s|.*|$D/speech8k/fr-a-10.wav#&	1	100|" \
	>"$W/win.want"
cmp -s "$W/win" "$W/win.want" || fail "window keys: $(cat "$W/win")"
"$P" -q -p 40 "$D/speech8k/de-b.wav" --tsv | cut -f 3- >"$W/file"
"$P" -q -p 40 <"$D/speech8k/de-b.wav" --tsv | cut -f 3- >"$W/stdin"
cmp -s "$W/file" "$W/stdin" || fail "stdin sound differs from the file"
# a sound on stdin longer than the first read buffer (64 KiB): 200,000
# samples, 400 kB, written with Python's wave module
"$PY" - "$W/long.wav" <<'PYEOF' || fail "writing long.wav"
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    w.writeframes(b"".join(struct.pack("<h", int(20000 * math.sin(i / 7)))
                           for i in range(200000)))
PYEOF
"$P" -q -p 100 "$W/long.wav" --tsv | cut -f 3- >"$W/file"
"$P" -q -p 100 - <"$W/long.wav" --tsv | cut -f 3- >"$W/stdin"
[ "$(cut -f 1,2 "$W/stdin")" = "1	2000" ] &&
	cmp -s "$W/file" "$W/stdin" ||
	fail "a long sound on stdin differs from the file"
# stdin from a file is read as that file; from a pipe it is read whole
# first: both give the same maps, for WAV and Ogg Vorbis, whole sounds and
# windows; so does a file on stdin that was read from before (it goes the
# pipe's way)
for f in "$W/long.wav" "$D/vorbis/fr-a-0.ogg"; do
	for o in "-p 100" "--window 3000 --hop 2500 -p 30"; do
		"$P" -q $o - <"$f" >"$W/redirect" &&
		cat "$f" | "$P" -q $o - >"$W/pipe" &&
		cmp -s "$W/redirect" "$W/pipe" ||
			fail "stdin as a file and as a pipe differ: $f $o"
	done
done
"$PY" - "$W/lead.bin" "$W/long.wav" <<'PYEOF' || fail "writing lead.bin"
import sys
open(sys.argv[1], "wb").write(b"x" * 7 + open(sys.argv[2], "rb").read())
PYEOF
(dd bs=7 count=1 of=/dev/null 2>/dev/null; "$P" -q -p 100 -) \
	<"$W/lead.bin" >"$W/lead" &&
	"$P" -q -p 100 - <"$W/long.wav" >"$W/redirect" &&
	cmp -s "$W/lead" "$W/redirect" ||
	fail "a sound on stdin after 7 bytes read differs"
# windows are read a window at a time: checked against NumPy over the
# whole mixdown (three channels, 20,000 frames, so windows straddle the
# reader's 4096-frame chunks), hop shorter than, equal to and longer
# than the window, and -l reading only what it keeps
"$PY" - "$W/three.wav" <<'PYEOF' || fail "writing three.wav"
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(3); w.setsampwidth(2); w.setframerate(8000)
    frame = lambda i: struct.pack("<3h", *(int(9000 * math.sin(i / (5 + c)))
                                           for c in range(3)))
    w.writeframes(b"".join(frame(i) for i in range(20000)))
PYEOF
"$P" -q -p 1 --normalize none "$W/three.wav" >"$W/three-all.ddk"
for h in 3000 5000 7001; do
	"$P" -q --window 5000 --hop $h -p 50 --normalize none "$W/three.wav" \
		>"$W/three-$h.ddk" || fail "--window 5000 --hop $h"
done
"$P" -q -l 12345 -u 3 -p 5 --normalize none "$W/three.wav" >"$W/three-l.ddk"
"$PY" - "$W" <<'PYEOF' || fail "windows or -l differ from NumPy"
import sys, numpy as np, ddkstream
w = sys.argv[1]
def recs(name):
    return list(ddkstream.read_records(open(w + "/" + name, "rb")))
(_, _, x), = recs("three-all.ddk")
x = x[0].astype(np.float64)
assert len(x) == 20000
for h in (3000, 5000, 7001):
    r = recs("three-%d.ddk" % h)
    starts = range(0, len(x) - 5000 + 1, h)
    assert [k for k, l, v in r] == [w + "/three.wav#%d" % i
                                    for i in range(len(starts))], h
    for s, (k, l, v) in zip(starts, r):
        want = x[s:s + 5000].reshape(100, 50).mean(axis=1)
        assert np.abs(v[0] - want).max() < 1e-6, k
(_, _, v), = recs("three-l.ddk")
want = x[:12345][:12345 // 3 * 3].reshape(3, -1)[:, :4115 // 5 * 5]
assert v.shape == (3, 823)
assert np.abs(v - want.reshape(3, 823, 5).mean(axis=2)).max() < 1e-6
PYEOF

# 6. Ogg Vorbis at 44.1 kHz through libsndfile, with a label for named
# files; every one of its 64512 samples is read.
"$P" -q -l 48000 -u 8 -p 60 --label fr --tsv \
	"$D/vorbis/fr-a-0.ogg" | cut -f 2-4 >"$W/ogg"
[ "$(cat "$W/ogg")" = "fr	8	100" ] || fail "ogg: $(cat "$W/ogg")"
"$P" -q -p 1 --normalize none --tsv "$D/vorbis/fr-a-0.ogg" | cut -f 3,4 \
	>"$W/ogg"
[ "$(cat "$W/ogg")" = "1	64512" ] || fail "ogg length: $(cat "$W/ogg")"
finish
