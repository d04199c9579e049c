#!/usr/bin/python3
"""Golden tests of the .pat front end and the reference interpreter.

    run_golden.py ENGINE CASEDIR [--update] [--rdumap RDUMAP]

Each CASEDIR/NAME.pat is run with the engine (tests/golden/pat_golden),
from inside CASEDIR so that diagnostics name the file as NAME.pat:
  NAME.err  expected diagnostics, exact text with caret lines (exit 1 or 2;
            a run-time error case has NAME.err and the `# interpret` marker)
  NAME.out  expected `--interpret` output (every output's values)
  NAME.ir   expected `--dump-ir` text
A case with none of them is a failure (nothing would be checked).
With --rdumap, the .err cases of compile-time errors are also run through
the CLI (`rdumap NAME.pat --dump-ir`), whose stderr must hold the same text.
--update rewrites the expected files from the engine (review the diff!).
Standard library only.
"""
import os
import subprocess
import sys


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def main():
    args = sys.argv[1:]
    update = "--update" in args
    args = [a for a in args if a != "--update"]
    rdumap = None
    if "--rdumap" in args:
        i = args.index("--rdumap")
        rdumap = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    engine, casedir = os.path.abspath(args[0]), os.path.abspath(args[1])
    cases = sorted(f[:-4] for f in os.listdir(casedir) if f.endswith(".pat"))
    failed = 0
    checked = 0
    for name in cases:
        pat = name + ".pat"
        with open(os.path.join(casedir, pat)) as f:
            source = f.read()
        wants_run = "# interpret" in source
        did = False
        for ext, flags, ok_codes in ((".err", ["--interpret"] if wants_run else [], (1, 2)),
                                     (".out", ["--interpret"], (0,)),
                                     (".ir", ["--dump-ir"], (0,))):
            path = os.path.join(casedir, name + ext)
            if not os.path.exists(path):
                continue
            did = True
            checked += 1
            code, out, err = run([engine, pat] + flags, casedir)
            if update:
                with open(path, "w") as f:
                    f.write(out)
                continue
            with open(path) as f:
                want = f.read()
            if code not in ok_codes or out != want or err:
                failed += 1
                print("FAIL %s%s (exit %d)" % (name, ext, code))
                print("--- expected\n%s--- got\n%s%s" % (want, out, err))
            if ext == ".err" and rdumap and not wants_run:
                code, out, err = run([rdumap, pat, "--dump-ir"], casedir)
                if code != 1 or want not in err:
                    failed += 1
                    print("FAIL %s.err through rdumap (exit %d)\n%s" % (name, code, err))
        if not did:
            failed += 1
            print("FAIL %s: no .err, .out or .ir file" % name)
    print("%d cases, %d checks, %d failed" % (len(cases), checked, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
