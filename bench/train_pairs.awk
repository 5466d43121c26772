# train_pairs.awk: test accuracy of ddk-train (c), the PyTorch twin
# (torch) and the twin with the recurrence reassociated (torchr), seed by
# seed, from one or more runs.tsv files of train_bench.sh.
#
#   awk -f bench/train_pairs.awk [-v max_seed=N] OUT/runs.tsv ...
#
# One row per set, network and variant, over the seeds (up to max_seed)
# that every implementation present ran: the means, their differences
# and in how many seeds c and torch gave the same accuracy (within 0.1
# points: PyTorch prints four digits; one test file is 0.22 points).
# A later line for the same run replaces an earlier one.
BEGIN { FS = "\t" }
FNR == 1 { next }
max_seed && $5 > max_seed { next }
{
	k = $1 " | " $2 " | " $3
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	acc[k, $4, $5] = 100 * $6
	has[k, $4] = 1
	seeds[k, $5] = 1
	if ($5 > top) top = $5
}
END {
	print "| set | network | variant | seeds | ddk-train % | PyTorch % |" \
	      " PyTorch reassociated % | ddk - torch | ddk - torchr |" \
	      " torch - torchr | same as torch |"
	print "|---|---|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		k = order[i]
		r = has[k, "torchr"]
		m = 0; sc = st = sr = same = 0
		for (s = 1; s <= top; s++) {
			if (!seeds[k, s] || !((k, "c", s) in acc) ||
			    !((k, "torch", s) in acc) ||
			    (r && !((k, "torchr", s) in acc)))
				continue
			m++
			sc += acc[k, "c", s]
			st += acc[k, "torch", s]
			if (r) sr += acc[k, "torchr", s]
			d = acc[k, "c", s] - acc[k, "torch", s]
			if (d < 0.1 && d > -0.1) same++
		}
		if (!m)
			continue
		if (r)
			printf("| %s | %d | %.2f | %.2f | %.2f | %+.2f | %+.2f |" \
			       " %+.2f | %d |\n", k, m, sc / m, st / m, sr / m,
			       (sc - st) / m, (sc - sr) / m, (st - sr) / m, same)
		else
			printf("| %s | %d | %.2f | %.2f | | %+.2f | | | %d |\n",
			       k, m, sc / m, st / m, (sc - st) / m, same)
	}
}
