#!/usr/bin/env python3
"""Writes the REES46 slice repeated until it has ROWS rows, as replay_bench builds it in memory:
copy k gets user ids suffixed "-k" and times shifted by k spans (the slice's length plus an hour).
For measuring `waymark replay` on a large file; the output is not kept in the repository.

    bench/scale_rees46.py 5000000 /tmp/rees46x5m.csv [../shared/data]
"""
import datetime
import sys


def main():
    rows_wanted, out_path = int(sys.argv[1]), sys.argv[2]
    data = sys.argv[3] if len(sys.argv) > 3 else "../shared/data"
    src = data + "/rees46-multicategory-2019-oct-head/2019-Oct.csv"
    with open(src) as f:
        lines = f.read().split("\n")
    header, rows = lines[0], [line for line in lines[1:] if line]
    rows = rows[:-1]  # the file's last line is cut off
    fmt = "%Y-%m-%d %H:%M:%S UTC"
    parsed = [(datetime.datetime.strptime(r.split(",", 1)[0], fmt), r.split(",")) for r in rows]
    span = (parsed[-1][0] - parsed[0][0]) + datetime.timedelta(hours=1)
    written, copy = 0, 0
    with open(out_path, "w") as out:
        out.write(header + "\n")
        while written < rows_wanted:
            for time, fields in parsed:
                if written >= rows_wanted:
                    break
                if copy:
                    fields = list(fields)
                    fields[0] = (time + span * copy).strftime(fmt)
                    fields[7] += "-" + str(copy)
                out.write(",".join(fields) + "\n")
                written += 1
            copy += 1


if __name__ == "__main__":
    main()
