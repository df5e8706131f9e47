"""Prints the table of bench/live-audit from the files of one run.

Usage: live_audit_table.py WORKDIR PROFILE [ATTEMPTS]

WORKDIR holds seed.json, runs.tsv (label, wall seconds, HTTP requests moto
served, exit status, file), the backstop runs' stderr (BACKSTOP_LOG=debug:
its "AWS calls made" line) and JSON reports, and the reference runs' JSON.
"""

import json
import re
import sys
from pathlib import Path


def backstop_calls(stderr):
    """The calls map of backstop's debug log line `AWS calls made calls={...}`."""
    for line in stderr.splitlines():
        if "AWS calls made" in line:
            m = re.search(r"calls=(\{.*\})", line)
            if m:
                return {k: int(v) for k, v in re.findall(r'"([^"]+)": (\d+)', m.group(1))}
    raise SystemExit("no 'AWS calls made' line in backstop's debug log")


def main():
    work, profile = Path(sys.argv[1]), sys.argv[2]
    attempts = sys.argv[3] if len(sys.argv) > 3 else "3"
    seed = json.loads((work / "seed.json").read_text())
    runs = []
    for line in (work / "runs.tsv").read_text().splitlines():
        label, wall, requests, status, name = line.split("\t")
        text = (work / name).read_text()
        if label.startswith("backstop"):
            calls = backstop_calls(text)
            report = json.loads((work / (name.removesuffix(".err") + ".json")).read_text())
            results = len(report["results"])
            errors = len(report["collection_errors"])
            failed = {}
            for e in report["collection_errors"]:
                failed.setdefault(f"{e['service']}:{e['operation']}", set()).add(e["region"])
            error_rules = {}
            for r in report["results"]:
                if r["status"] == "error":
                    error_rules[r["rule"]] = error_rules.get(r["rule"], 0) + 1
        else:
            reference = json.loads(text)
            calls = reference["calls"]
            results, errors = None, 0
            failed = reference.get("failed", {})
            error_rules = None
        runs.append(
            dict(
                label=label,
                wall=float(wall),
                requests=int(requests),
                status=status,
                calls=calls,
                results=results,
                errors=errors,
                failed=failed,
                error_rules=error_rules,
                inner=None if label.startswith("backstop") else reference["wall"],
            )
        )

    kinds = ", ".join(f"{v['count']} {k.replace('_', ' ')}" for k, v in seed.items() if k != "seconds")
    seed_requests = sum(v["requests"] for k, v in seed.items() if k != "seconds")
    print()
    print(
        f"backstop live audit against moto ({profile} build of backstop; "
        f"at most {attempts} attempt{'' if attempts == '1' else 's'} per call)"
    )
    print(f"account: {kinds}, over us-east-1 and eu-west-1")
    print(
        f"seeding (boto3, 8 threads): {seed_requests} requests in {seed['seconds']} s "
        f"({seed_requests / seed['seconds']:.0f} req/s); "
        + ", ".join(f"{k.replace('_', ' ')} {v['seconds']} s" for k, v in seed.items() if k != "seconds")
    )
    print()
    header = f"{'run':<30} {'wall s':>8} {'calls':>7} {'HTTP req':>9} {'req/s':>7} {'ms/call':>8}  notes"
    print(header)
    print("-" * len(header))
    for r in runs:
        total = sum(r["calls"].values())
        notes = []
        if r["results"] is not None:
            notes.append(f"{r['results']} results, exit {r['status']}")
        if r["errors"]:
            notes.append(f"{r['errors']} collection errors")
        elif r["failed"]:
            notes.append(f"{sum(r['failed'].values())} failed calls")
        if r["inner"] is not None:
            notes.append(f"{r['inner']:.2f} s without interpreter and client setup")
        print(
            f"{r['label']:<30} {r['wall']:>8.2f} {total:>7} {r['requests']:>9} "
            f"{r['requests'] / r['wall']:>7.0f} {1000 * r['wall'] / total:>8.2f}  {'; '.join(notes)}"
        )
    print()
    ops = sorted({op for r in runs for op in r["calls"]})
    # One column per distinct call pattern (the backstop runs make the same
    # calls at any concurrency; so do the reference runs).
    columns = []
    for r in runs:
        if not any(c["calls"] == r["calls"] for c in columns):
            columns.append(r)
    names = [c["label"].split(" ")[0] for c in columns]
    print(f"{'calls by operation':<36}" + "".join(f"{n:>12}" for n in names))
    for op in ops:
        print(f"{op:<36}" + "".join(f"{c['calls'].get(op, 0):>12}" for c in columns))
    print(f"{'total':<36}" + "".join(f"{sum(c['calls'].values()):>12}" for c in columns))
    same = all(c["calls"] == columns[0]["calls"] for c in columns)
    print()
    print("backstop and the boto3 reference make the same calls" if same else
          "NOTE: backstop and the boto3 reference differ in calls (see above)")
    first = next((r for r in runs if r["error_rules"] is not None), None)
    if first and first["failed"]:
        print()
        print("calls that failed (backstop's collection errors, by operation: regions):")
        for op, regions in sorted(first["failed"].items()):
            print(f"  {op}: {', '.join(sorted(regions))}")
        reference = next((r for r in runs if r["error_rules"] is None), None)
        if reference:
            print(
                "  the reference's failed calls: "
                + ", ".join(f"{op} {n}" for op, n in sorted(reference["failed"].items()))
            )
        print("rules reporting error (results):")
        for rule, n in sorted(first["error_rules"].items()):
            print(f"  {rule}: {n}")


if __name__ == "__main__":
    main()
