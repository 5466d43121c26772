#!/usr/bin/python3
"""Write the small broken files the bad-input tables use (run once; the
outputs are committed).  Every file is wrong in one way only."""
import gzip, struct
import numpy as np

def save(name, data):
    with open(name, "wb") as f:
        f.write(data)

def npy_bytes(header, payload=b""):
    h = header.encode("latin1")
    pad = 64 - (10 + len(h) + 1) % 64
    h += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + payload

# A WAV header with no frames.
save("empty.wav", b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " +
     struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) +
     b"data" + struct.pack("<I", 0))
save("not-sound.wav", b"this is text, not sound\n" * 4)

# IDX images: wrong magic, five dimensions, a zero dimension, truncated.
img = struct.pack(">IIII", 0x803, 3, 4, 4)
save("bad-magic.idx", b"\x01\x02" + img[2:] + bytes(48))
save("five-dims.idx", struct.pack(">I", 0x805) + struct.pack(">5I", 1, 1, 1, 1, 1))
save("zero-dim.idx", struct.pack(">IIII", 0x803, 3, 0, 4))
# Dimensions whose product wraps to zero in 64 bits (found by make fuzz).
save("huge-dims.idx", struct.pack(">I", 0x804) +
     struct.pack(">4I", 3, 1 << 25, 1 << 28, 1 << 24) + bytes(19))
save("truncated.idx", img + bytes(40))
# Type 0x0a is no IDX type.
save("type-0a.idx", struct.pack(">IIII", 0xA03, 3, 4, 4) + bytes(48))
save("good3.idx", img + bytes(range(48)))
with gzip.open("truncated.idx.gz", "wb") as f:
    f.write(img + bytes(20))
save("labels2.idx", struct.pack(">II", 0x801, 2) + bytes([1, 2]))
save("labels-short.idx", struct.pack(">II", 0x801, 3) + bytes([1]))
save("labels-float.idx", struct.pack(">II", 0xD01, 2) + struct.pack(">2f", 1, 2))

# NumPy: bad magic, Fortran order cut short (it is read whole) or not
# said, a dtype not read, truncated data.
good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 8), }"
save("bad-magic.npy", b"\x93NUMPX" + npy_bytes(good)[6:] + bytes(64))
save("fortran.npy", npy_bytes(good.replace("False", "True"), bytes(60)))
save("no-order.npy", npy_bytes(good.replace("False", "0"), bytes(64)))
save("complex.npy", npy_bytes(good.replace("<f4", "<c8"), bytes(128)))
save("truncated.npy", npy_bytes(good, bytes(40)))
save("huge-shape.npy", npy_bytes(good.replace("(2, 8)",
     "(2, 4294967296, 4294967296)"), bytes(40)))
save("bad-shape.npy", npy_bytes(good.replace("(2, 8)", "(2, x)"), bytes(64)))
save("one-dim.npy", npy_bytes(good.replace("(2, 8)", "(8,)"), bytes(32)))
np.save("good2.npy", np.zeros((2, 8), dtype=np.float32))
with open("labels3.txt", "w") as f:
    f.write("a\nb\nc\n")
# Two labels, the second longer than a label may be (1,024 bytes).
with open("label-long.txt", "w") as f:
    f.write("a\n" + "b" * 1025 + "\n")
save("not-a-stream.ddk", b"DDKS" + struct.pack("<5I", 9, 1, 0, 1, 1) + b"k" + bytes(4))

# A good table of fitted pairs, as a seed for make fuzz.
with open("pairs.tsv", "w") as f:
    f.write("# fitted pairs\nkey\talpha\tbeta\tR\n"
            "2V-100ns\t0.0123\t0.456\t0.01\n3V-100ns\t0.0119\t0.612\t0.02\n")
