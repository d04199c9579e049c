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
With --rdumap the CLI is run too: compile-time .err cases as
`rdumap NAME.pat --dump-ir` (exit 1, the same text on stderr); .out cases
as `rdumap NAME.pat --interpret --data IN --out OUT` on the inputs the
engine writes (--write-inputs IN), OUT/*.npy compared value by value with
NAME.out; run-time .err cases the same way, failing with the same text.
--update rewrites the expected files from the engine (review the diff!).
Standard library only.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile


def read_npy(path):
    """Values of a little-endian <f4/<i4 C-order .npy file, as text (%.9g / %d)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        raise ValueError("%s: not a .npy file" % path)
    major = data[6]
    if major == 1:
        hlen = struct.unpack("<H", data[8:10])[0]
        start = 10
    else:
        hlen = struct.unpack("<I", data[8:12])[0]
        start = 12
    header = data[start:start + hlen].decode("latin1")
    body = data[start + hlen:]
    code = "f" if "<f4" in header else "i"
    n = len(body) // 4
    vals = struct.unpack("<%d%s" % (n, code), body[:4 * n])
    return ["%.9g" % v if code == "f" else "%d" % v for v in vals]


def parse_out(text):
    """NAME -> list of value strings, from the engine's --interpret output."""
    outs, name = {}, None
    for line in text.splitlines():
        if line.startswith(" "):
            outs[name].extend(line.split())
        elif " : " in line:
            name = line.split(" : ")[0]
            outs[name] = []
    return outs


def via_cli(rdumap, engine, pat, casedir, want, is_err):
    """Run a case through the CLI on the engine's inputs; return an error text or None."""
    tmp = tempfile.mkdtemp(prefix="golden-")
    try:
        ind, outd = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        os.mkdir(ind)
        os.mkdir(outd)
        code, out, err = run([engine, pat, "--write-inputs", ind], casedir)
        if code != 0:
            return "engine could not write inputs: " + err
        code, out, err = run([rdumap, pat, "--interpret", "--data", ind, "--out", outd], casedir)
        if is_err:
            if code == 0 or want not in err:
                return "rdumap exit %d, stderr:\n%s" % (code, err)
            if os.listdir(outd):
                return "rdumap wrote outputs after a run-time error: %s" % os.listdir(outd)
            return None
        if code != 0:
            return "rdumap exit %d, stderr:\n%s" % (code, err)
        for name, vals in parse_out(want).items():
            got = read_npy(os.path.join(outd, name + ".npy"))
            if got != vals:
                return "output %s: rdumap wrote %s, expected %s" % (name, got, vals)
        return None
    except (OSError, ValueError, struct.error) as e:
        return str(e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
            elif ext in (".err", ".out") and rdumap:
                why = via_cli(rdumap, engine, pat, casedir, want, ext == ".err")
                if why:
                    failed += 1
                    print("FAIL %s%s through rdumap: %s" % (name, ext, why))
        if not did:
            failed += 1
            print("FAIL %s: no .err, .out or .ir file" % name)
    print("%d cases, %d checks, %d failed" % (len(cases), checked, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
