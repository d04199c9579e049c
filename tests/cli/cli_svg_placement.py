#!/usr/bin/env python3
"""cli_svg_placement.py -- `rdumap --svg` and `--placement` end to end.

Usage: cli_svg_placement.py RDUMAP SOURCE_ROOT

Maps mlp.pat on plasticine with --json and --svg, checks the picture
against the report (one site rect per site, one unit group per placed
unit, one net path per routed net with links), then replays the saved
placement with another strategy requested and checks that the placement,
its cost and the emulated cycles are identical; then the refusals: the
placement on another fabric, a malformed file, an unwritable picture.
Skips (77) until the rdumap in hand knows --placement.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SVG = '{http://www.w3.org/2000/svg}'


def run(rdumap, *args):
    p = subprocess.run([rdumap, *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def classes(root, tag, cls):
    return [e for e in root.iter(SVG + tag) if (e.get('class') or '').split(' ')[0] == cls]


def main():
    rdumap, src = sys.argv[1], sys.argv[2]
    rc, out, _ = run(rdumap, '--help')
    if '--placement' not in out:
        print('SKIP: this rdumap has no --placement yet')
        return 77
    prog = os.path.join(src, 'examples', 'mlp.pat')
    fabric = os.path.join(src, 'fabric', 'plasticine.cfg')
    with tempfile.TemporaryDirectory() as tmp:
        a_json, a_svg = os.path.join(tmp, 'a.json'), os.path.join(tmp, 'a.svg')
        rc, _, err = run(rdumap, prog, '--fabric', fabric, '--json', a_json, '--svg', a_svg, '-q')
        check(rc == 0, 'mapping mlp on plasticine: exit %d\n%s' % (rc, err))
        report = json.load(open(a_json))
        root = ET.parse(a_svg).getroot()          # well-formed, or this raises
        check(root.tag == SVG + 'svg', 'the root element is not <svg>')
        f = report['fabric']
        # Every site, or with a crop (the used area of a big fabric) every
        # site of the rows and columns shown.
        n_sites = len(classes(root, 'rect', 'site'))
        crop = [t.text for t in root.iter(SVG + 'text') if t.get('class') == 'crop']
        if crop:
            w = [int(x) for x in re.findall(r'\d+', crop[0])]
            check((w[1] - w[0] + 1) * (w[3] - w[2] + 1) <= n_sites < f['rows'] * f['cols'] + f['agcus'],
                  'site rects of the crop %s: %d' % (crop[0], n_sites))
        else:
            check(n_sites == f['rows'] * f['cols'] + f['agcus'], 'site rects: %d' % n_sites)
        units = report['place']['units']
        check(len(classes(root, 'g', 'unit')) == len(units),
              'unit groups %d, placed units %d' % (len(classes(root, 'g', 'unit')), len(units)))
        nets = [n for n in report['route']['nets'] if n['links']]
        check(len(classes(root, 'path', 'net')) == len(nets),
              'net paths %d, routed nets with links %d' % (len(classes(root, 'path', 'net')), len(nets)))
        titles = ''.join(t.text or '' for t in root.iter(SVG + 'title'))
        for u in units:
            check(u['unit'] in titles, "unit '%s' has no tooltip" % u['unit'])

        # Replay: the same sites whatever strategy is asked for.
        b_json = os.path.join(tmp, 'b.json')
        rc, _, err = run(rdumap, prog, '--fabric', fabric, '--placement', a_json, '--place', 'random',
                         '--seed', '99', '--json', b_json, '-q')
        check(rc == 0, 'replay: exit %d\n%s' % (rc, err))
        replay = json.load(open(b_json))
        key = lambda us: sorted((u['unit'], u['kind'], u['row'], u['col']) for u in us)
        check(key(replay['place']['units']) == key(units), 'the replayed placement differs')
        check(replay['place']['cost'] == report['place']['cost'],
              'cost %s after replay, %s before' % (replay['place']['cost'], report['place']['cost']))
        check(replay['emu']['cycles'] == report['emu']['cycles'], 'cycles differ after replay')

        # Refusals, each naming the file.
        rc, _, err = run(rdumap, prog, '--placement', a_json, '-q')      # built-in sn10
        check(rc in (1, 4) and a_json + ': error:' in err,
              'a plasticine placement on sn10: exit %d\n%s' % (rc, err))
        bad = os.path.join(tmp, 'bad.json')
        with open(bad, 'w') as fh:
            fh.write('{"place": {"units": [\n  {"unit": "X",, "row": 1}]}}\n')
        rc, _, err = run(rdumap, prog, '--fabric', fabric, '--placement', bad, '-q')
        check(rc in (1, 4) and bad + ':2:' in err and 'malformed JSON' in err,
              'malformed placement: exit %d\n%s' % (rc, err))
        nowhere = os.path.join(tmp, 'no', 'such', 'dir', 'x.svg')
        rc, _, err = run(rdumap, prog, '--fabric', fabric, '--svg', nowhere, '-q')
        check(rc == 4 and nowhere + ': error:' in err and not os.path.exists(nowhere),
              'unwritable picture: exit %d\n%s' % (rc, err))
    print('ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
