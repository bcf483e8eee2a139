#!/usr/bin/env python3
"""bench.py: the v6rep benchmark driver (run through run.sh): v6repd against rbldnsd and NSD.

For each listing set: generate (gen_sets.py), import into a v6rep store, export for rbldnsd,
render a wildcard zone for NSD (nsd_zone.py), check every server's answers, then run interleaved
rounds (v6repd, rbldnsd, NSD in rotated order) of dnsperf against each server pinned to CPU 0 with
dnsperf on CPU 1, measuring qps, server CPU per answered query, memory (PSS/RSS) and start-up
time; then v6repd's cold start and add-to-served latency. Writes runs.csv, results.md and
results.json into the output directory. Python 3 standard library only.
"""

import argparse
import csv
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import dnsq  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
ZONE = "v6bl.example"
NS = "ns1.v6bl.example"
SERVERS = ["v6repd", "rbldnsd", "nsd"]
LIVE = {}            # pid -> Popen of every server we started (killed at exit)
PIDFILE = None       # OUT/pids: the pids run.sh's trap kills if we die hard


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class Abort(Exception):
    pass


# ---------------------------------------------------------------- processes and /proc

def note_pids():
    """Writes the pids of every live server and its children (NSD forks) for run.sh's trap."""
    if PIDFILE:
        pids = [q for p in LIVE for q in tree(p)]
        with open(PIDFILE, "w") as f:
            f.write("".join("%d\n" % p for p in pids))


def tree(pid):
    """pid and all its live descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(pids):
    """utime+stime summed over pids, in clock ticks (threads included)."""
    t = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        t += int(fields[11]) + int(fields[12])      # fields 14 and 15 of stat(5)
    return t


def memory_kib(pids):
    """(PSS, RSS) in KiB summed over pids, from smaps_rollup."""
    pss = rss = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            continue
    return pss, rss


def udp_rcvbuf_errors():
    """The kernel's count of UDP datagrams dropped for a full receive buffer."""
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def free_port():
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
    raise Abort("no free port")


def start(cmd, logpath):
    lf = open(logpath, "ab")
    p = subprocess.Popen(["taskset", "-c", "0"] + cmd, stdout=lf, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    lf.close()
    LIVE[p.pid] = p
    note_pids()
    return p


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return False
    return s[s.rindex(")") + 2] != "Z"


def stop(p, grace=30):
    """Stops a server and waits until all its processes are gone: NSD's children can take
    seconds to free a large zone, on CPU 0, and must not overlap the next server's run."""
    pids = tree(p.pid)
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    end = time.monotonic() + grace
    while time.monotonic() < end:
        p.poll()
        if not any(alive(q) for q in pids):
            break
        time.sleep(0.05)
    else:
        for q in reversed(pids):
            if alive(q):
                try:
                    os.kill(q, signal.SIGKILL)
                except OSError:
                    pass
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        pass
    LIVE.pop(p.pid, None)
    note_pids()


def stop_all():
    for p in list(LIVE.values()):
        try:
            stop(p, grace=5)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def run(cmd, timeout, **kw):
    """Runs cmd to completion (bounded); returns (wall seconds, CompletedProcess)."""
    t0 = time.monotonic()
    cp = subprocess.run(cmd, timeout=timeout, capture_output=True, text=True, **kw)
    return time.monotonic() - t0, cp


def must(cp, what):
    if cp.returncode != 0:
        raise Abort("failed to %s (exit %d): %s" % (what, cp.returncode,
                                                    (cp.stderr or cp.stdout)[-2000:]))


# ---------------------------------------------------------------- preparation

def known_names(expect_path):
    """A listed A name with its code and an unlisted one, from expect.tsv."""
    listed = unlisted = None
    with open(expect_path) as f:
        for line in f:
            name, qt, verdict, code, cat = line.rstrip("\n").split("\t")
            if qt == "A" and verdict == "listed" and cat == "listed-A" and not listed:
                listed = (name, code)
            if qt == "A" and verdict == "unlisted" and cat == "unlisted-random" and not unlisted:
                unlisted = name
    return listed, unlisted


def prepare_set(a, name, entries, setdir, servers):
    """Generates the set and builds the three servers' data. Returns a dict of facts."""
    os.makedirs(setdir, exist_ok=True)
    facts = {"name": name, "entries_wanted": entries}
    stamp = os.path.join(setdir, "gen.args")
    args = "entries=%d queries=%d seed=%d zone=%s" % (entries, a.queries, a.seed, ZONE)
    if not (os.path.exists(stamp) and open(stamp).read() == args):
        log("%s: generating %d entries, %d queries" % (name, entries, a.queries))
        w, cp = run([sys.executable, os.path.join(HERE, "gen_sets.py"), "--entries",
                     str(entries), "--queries", str(a.queries), "--seed", str(a.seed),
                     "--zone", ZONE, setdir], 1800)
        must(cp, "generate the %s set" % name)
        with open(stamp, "w") as f:
            f.write(args)
    with open(os.path.join(setdir, "stats.json")) as f:
        facts["gen"] = json.load(f)
    lst = os.path.join(setdir, "listings.txt")

    db = os.path.join(setdir, "db")
    shutil.rmtree(db, ignore_errors=True)
    log("%s: v6rep import" % name)
    w, cp = run([a.v6rep, "--db", db, "--zone", ZONE, "import", lst], 3600)
    must(cp, "import %s into %s" % (lst, db))
    facts["import_s"] = w
    facts["store_bytes"] = sum(os.path.getsize(os.path.join(db, f)) for f in os.listdir(db))
    facts["store_du_bytes"] = sum(os.stat(os.path.join(db, f)).st_blocks * 512
                                  for f in os.listdir(db))

    facts["listed"], facts["unlisted"] = known_names(os.path.join(setdir, "expect.tsv"))
    if "rbldnsd" in servers:
        prepare_rbldnsd(a, name, setdir, db, facts)
    if "nsd" in servers:
        prepare_nsd(a, name, setdir, lst, facts)
    return facts


def prepare_rbldnsd(a, name, setdir, db, facts):
    rdir = os.path.join(setdir, "rbldnsd")
    os.makedirs(rdir, exist_ok=True)
    rfile = os.path.join(rdir, "data")
    log("%s: v6rep list --format rbldnsd" % name)
    t0 = time.monotonic()
    with open(rfile, "w") as out:
        cp = subprocess.run([a.v6rep, "--db", db, "--zone", ZONE, "--ns", NS, "list",
                             "--format", "rbldnsd"], stdout=out, stderr=subprocess.PIPE,
                            text=True, timeout=3600)
    must(cp, "export %s for rbldnsd" % db)
    facts["rbldnsd_export_s"] = time.monotonic() - t0
    facts["rbldnsd_bytes"] = os.path.getsize(rfile)
    # rbldnsd drops root to user rbldns before it reads the data.
    for p in (setdir, rdir):
        os.chmod(p, 0o755)
    os.chmod(rfile, 0o644)


def prepare_nsd(a, name, setdir, lst, facts):
    ndir = os.path.join(setdir, "nsd")
    os.makedirs(ndir, exist_ok=True)
    zfile = os.path.join(ndir, ZONE + ".zone")
    log("%s: rendering the NSD zone" % name)
    t0 = time.monotonic()
    with open(zfile, "w") as out:
        cp = subprocess.run([sys.executable, os.path.join(HERE, "nsd_zone.py"), "--zone", ZONE,
                             "--ns", NS, lst], stdout=out, stderr=subprocess.PIPE, text=True,
                            timeout=3600)
    must(cp, "render the NSD zone")
    facts["nsd_render_s"] = time.monotonic() - t0
    facts["nsd_render_note"] = cp.stderr.strip()
    facts["nsd_zone_bytes"] = os.path.getsize(zfile)
    w, cp = run(["nsd-checkzone", ZONE, zfile], 3600)
    must(cp, "check the NSD zone with nsd-checkzone")
    facts["nsd_checkzone_s"] = w


def nsd_conf(ndir, port):
    path = os.path.join(ndir, "nsd.conf")
    with open(path, "w") as f:
        f.write("""# written by contrib/bench/bench.py
server:
    ip-address: 127.0.0.1
    port: %(port)d
    do-ip6: no
    server-count: 1
    reuseport: no
    username: ""
    chroot: ""
    zonesdir: "%(d)s"
    pidfile: "%(d)s/nsd.pid"
    database: ""
    zonelistfile: "%(d)s/zone.list"
    xfrdfile: "%(d)s/xfrd.state"
    xfrdir: "%(d)s"
    logfile: "%(d)s/nsd.log"
    verbosity: 1
    rrl-ratelimit: 0
    hide-version: yes
    tcp-count: 10
remote-control:
    control-enable: no
zone:
    name: "%(zone)s"
    zonefile: "%(zone)s.zone"
""" % {"port": port, "d": ndir, "zone": ZONE})
    cp = subprocess.run(["nsd-checkconf", path], capture_output=True, text=True, timeout=60)
    must(cp, "check %s" % path)
    return path


def server_cmd(a, srv, setdir, port):
    if srv == "v6repd":
        return [a.v6repd, "--db", os.path.join(setdir, "db"), "--zone", ZONE, "--ns", NS,
                "--listen", "127.0.0.1:%d" % port, "--threads", "1"] + a.v6repd_arg
    if srv == "rbldnsd":
        return ["rbldnsd", "-n", "-f", "-c", "0", "-b", "127.0.0.1/%d" % port] + a.rbldnsd_arg + \
            ["%s:combined:%s" % (ZONE, os.path.join(setdir, "rbldnsd", "data"))]
    ndir = os.path.join(setdir, "nsd")
    for f in ("nsd.pid", "xfrd.state", "zone.list"):
        try:
            os.unlink(os.path.join(ndir, f))
        except OSError:
            pass
    return ["nsd", "-d", "-c", nsd_conf(ndir, port)]


# ---------------------------------------------------------------- measuring

def wait_answer(p, port, listed, timeout, interval=0.002):
    """Polls a listed name until the right A answer; returns seconds since `start` or raises."""
    cl = dnsq.Client(port)
    name, code = listed
    t0 = time.monotonic()
    try:
        while True:
            if p.poll() is not None:
                raise Abort("server exited with %s before answering" % p.returncode)
            res = cl.query(name, "A", timeout=interval)
            if res is not None and dnsq.a_of(res) == [code]:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise Abort("no correct answer within %d s" % timeout)
            if res is None:
                continue        # the timeout already waited
            time.sleep(interval)
    finally:
        cl.close()


def start_server(a, srv, setdir, facts, logdir, tag):
    port = free_port()
    cmd = server_cmd(a, srv, setdir, port)
    t0 = time.monotonic()
    p = start(cmd, os.path.join(logdir, "%s-%s.log" % (srv, tag)))
    try:
        up = wait_answer(p, port, facts["listed"], a.start_timeout)
    except Abort as e:
        stop(p)
        raise Abort("%s (%s): %s; command: %s; log: %s" % (srv, tag, e, " ".join(cmd),
                                                           os.path.join(logdir, "%s-%s.log" %
                                                                        (srv, tag))))
    # Measured from just before the fork, so the exec and the load are both included.
    up = time.monotonic() - t0
    note_pids()                 # now with the server's children
    return p, port, up


def sanity(srv, port, setdir, facts, full):
    """Known listed + unlisted names (and the whole expect.tsv sample when full)."""
    cl = dnsq.Client(port)
    try:
        name, code = facts["listed"]
        res = cl.query(name, "A", 2.0)
        if dnsq.a_of(res) != [code]:
            raise Abort("%s: listed name %s gave %s, want A %s" % (srv, name, res, code))
        res = cl.query(facts["unlisted"], "A", 2.0)
        if res is None or res[0] != 3 or dnsq.a_of(res):
            raise Abort("%s: unlisted name %s gave %s, want NXDOMAIN" % (srv, facts["unlisted"],
                                                                        res))
    finally:
        cl.close()
    if full:
        n, fails = dnsq.check_file(port, os.path.join(setdir, "expect.tsv"))
        if fails:
            raise Abort("%s: %d of %d checked answers wrong, first: %s" % (srv, len(fails), n,
                                                                         "; ".join(fails[:5])))
        return n
    return 2


DNSPERF_RE = {
    "sent": re.compile(r"Queries sent:\s+(\d+)"),
    "completed": re.compile(r"Queries completed:\s+(\d+)"),
    "lost": re.compile(r"Queries lost:\s+(\d+)"),
    "qps": re.compile(r"Queries per second:\s+([\d.]+)"),
    "latency_s": re.compile(r"Average Latency \(s\):\s+([\d.]+)"),
    "resp_bytes": re.compile(r"Average packet size:\s+request \d+, response (\d+)"),
    "runtime_s": re.compile(r"Run time \(s\):\s+([\d.]+)"),
}


def dnsperf(a, port, qfile, seconds):
    cmd = ["taskset", "-c", "1", "dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile,
           "-l", str(seconds), "-c", str(a.clients), "-q", str(a.outstanding), "-t", "2"]
    cp = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    must(cp, "run dnsperf")
    r = {}
    for k, rx in DNSPERF_RE.items():
        m = rx.search(cp.stdout)
        if not m:
            raise Abort("dnsperf output lacks %s:\n%s" % (k, cp.stdout[-1500:]))
        r[k] = float(m.group(1))
    m = re.search(r"Response codes:\s+(.*)", cp.stdout)
    r["rcodes"] = m.group(1).strip() if m else ""
    return r


def one_run(a, srv, rnd, setname, setdir, facts, logdir):
    tag = "%s-r%d" % (setname, rnd)
    p, port, up = start_server(a, srv, setdir, facts, logdir, tag)
    try:
        sanity(srv, port, setdir, facts, full=(rnd == 0))
        qfile = os.path.join(setdir, "queries.txt")
        if a.warmup > 0:
            dnsperf(a, port, qfile, a.warmup)
        load0 = loadavg()
        pids = tree(p.pid)
        c0 = cpu_ticks(pids)
        e0 = udp_rcvbuf_errors()
        d = dnsperf(a, port, qfile, a.duration)
        c1 = cpu_ticks(tree(p.pid))
        e1 = udp_rcvbuf_errors()
        pss, rss = memory_kib(tree(p.pid))
        if p.poll() is not None:
            raise Abort("%s exited during the run" % srv)
        sanity(srv, port, setdir, facts, full=False)
    finally:
        stop(p)
    cpu_s = (c1 - c0) / CLK_TCK
    row = {"set": setname, "round": rnd, "server": srv, "startup_s": round(up, 4),
           "qps": d["qps"], "sent": int(d["sent"]), "completed": int(d["completed"]),
           "lost": int(d["lost"]), "runtime_s": d["runtime_s"], "cpu_s": round(cpu_s, 3),
           "cpu_us_per_query": round(cpu_s * 1e6 / max(1, d["completed"]), 4),
           "server_util": round(cpu_s / max(0.001, d["runtime_s"]), 3),
           "rcvbuf_drops": e1 - e0, "loadavg": load0,
           "pss_kib": pss, "rss_kib": rss, "latency_ms": round(d["latency_s"] * 1000, 4),
           "resp_bytes": int(d["resp_bytes"]), "rcodes": d["rcodes"]}
    log("  %-8s r%d: %8.0f qps  %6.2f us/q  cpu %.2f s (%3.0f%%)  lost %d  PSS %d MiB  start %.3f s"
        "  load %.1f" % (srv, rnd, row["qps"], row["cpu_us_per_query"], cpu_s,
                         100 * row["server_util"], row["lost"], pss // 1024, up, load0))
    return row


def drop_caches():
    try:
        subprocess.run(["sync"], timeout=120)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def start_samples(a, tag, setdir, facts, logdir, n, cold):
    """n v6repd start-ups (to the first correct answer), after dropping the page cache (a fresh
    start from disk) when cold. None when the cache cannot be dropped."""
    out = []
    for i in range(n):
        if cold and not drop_caches():
            return None
        p, port, up = start_server(a, "v6repd", setdir, facts, logdir, "%s-%d" % (tag, i))
        stop(p)
        out.append(up)
    return out


def empty_store(a, outdir):
    """A store with no entries, as a start-up baseline (answers the built-in RFC 5782 test
    point 127.0.0.2). Returns (setdir, facts)."""
    d = os.path.join(outdir, "empty")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    empty = os.path.join(d, "empty.txt")
    open(empty, "w").close()
    w, cp = run([a.v6rep, "--db", os.path.join(d, "db"), "--zone", ZONE, "import", empty], 60)
    must(cp, "create the empty store")
    return d, {"listed": ("2.0.0.127." + ZONE, "127.0.0.2")}


def add_latency(a, setname, setdir, facts, logdir, n):
    """Time from `v6rep add` returning to v6repd answering the new listing (polled every
    a.poll_ms ms), n times; also the add command's own wall time."""
    p, port, _ = start_server(a, "v6repd", setdir, facts, logdir, "%s-add" % setname)
    cl = dnsq.Client(port)
    lat, cmd_s, polls = [], [], []
    ctl = [0, 0, 0.0]          # control polls, of which unanswered in time, max round trip
    db = os.path.join(setdir, "db")
    try:
        for i in range(n):
            # Control: the same polling of a name that does not change, so scheduling delays of
            # this shared machine can be told from the store's.
            for _ in range(20):
                t1 = time.monotonic()
                res = cl.query(facts["listed"][0], "A", timeout=a.poll_ms / 1000.0)
                ctl[0] += 1
                if res is None:
                    ctl[1] += 1
                else:
                    ctl[2] = max(ctl[2], time.monotonic() - t1)
                    time.sleep(a.poll_ms / 1000.0)
            # 2001:db8::/32 is documentation space; gen_sets.py's random listings are checked.
            addr = "2001:db8:bec:%x::%x" % (i, 0x5000 + i)
            h = "%032x" % int.from_bytes(socket.inet_pton(socket.AF_INET6, addr), "big")
            name = ".".join(reversed(h)) + "." + ZONE
            before = cl.query(name, "A", 1.0)
            if before is None or dnsq.a_of(before):
                raise Abort("add test: %s already listed or no answer (%s)" % (addr, before))
            w, cp = run([a.v6rep, "--db", db, "--zone", ZONE, "add", addr + "/128", "--code",
                         "127.0.0.3", "--reason", "bench add %d" % i], 60)
            t0 = time.monotonic()
            must(cp, "v6rep add %s" % addr)
            cmd_s.append(w)
            seen = None
            n_poll = n_stale = 0
            while time.monotonic() - t0 < a.add_timeout:
                n_poll += 1
                res = cl.query(name, "A", timeout=a.poll_ms / 1000.0)
                if res is not None and not dnsq.a_of(res):
                    n_stale += 1
                if dnsq.a_of(res) == ["127.0.0.3"]:
                    seen = time.monotonic() - t0
                    break
                if res is not None:
                    time.sleep(a.poll_ms / 1000.0)
            if seen is None:
                raise Abort("add test: %s not answered within %.1f s of `v6rep add`"
                            % (addr, a.add_timeout))
            lat.append(seen)
            # Answered by the first query sent after `add` returned: the listing was visible at
            # once, and any delay was the round trip (and the scheduler), not the store.
            polls.append((n_poll, n_stale))
            cp = subprocess.run([a.v6rep, "--db", db, "--zone", ZONE, "del", addr + "/128"],
                                capture_output=True, text=True, timeout=60)
            must(cp, "v6rep del %s" % addr)
            time.sleep(0.05)
    finally:
        cl.close()
        stop(p)
    return lat, cmd_s, polls, ctl


def perf_profile(a, setname, setdir, facts, logdir, outdir):
    """perf record -g on v6repd during one dnsperf run; writes perf-<set>.txt."""
    if not shutil.which("perf"):
        return None
    p, port, _ = start_server(a, "v6repd", setdir, facts, logdir, "%s-perf" % setname)
    data = os.path.join(outdir, "perf-%s.data" % setname)
    for f in (data, data + ".old"):
        if os.path.exists(f):
            os.unlink(f)
    try:
        pr = subprocess.Popen(["perf", "record", "-g", "-o", data, "-p", str(p.pid), "--",
                               "sleep", str(a.duration)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        dnsperf(a, port, os.path.join(setdir, "queries.txt"), a.duration)
        pr.wait(a.duration + 60)
    finally:
        stop(p)
    txt = os.path.join(outdir, "perf-%s.txt" % setname)
    with open(txt, "w") as f:
        subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                        "--percent-limit", "1"], stdout=f, stderr=subprocess.DEVNULL,
                       timeout=600)
    return txt


# ---------------------------------------------------------------- report

def med(xs):
    return statistics.median(xs) if xs else float("nan")


def report(a, sets, rows, extra, outdir):
    lines = ["# v6rep benchmark results", "",
             "Command: `%s`" % a.cmdline, "",
             "Machine: %s; %d CPUs; %s. dnsperf -c %d -q %d, %d s runs after %d s warm-up, %d"
             " interleaved rounds (order rotated), servers on CPU 0, dnsperf on CPU 1."
             % (extra["cpu_model"], os.cpu_count(), extra["kernel"], a.clients, a.outstanding,
                a.duration, a.warmup, a.rounds), ""]
    res = {"sets": {}, "targets": {}}
    for s in sets:
        name = s["name"]
        rs = [r for r in rows if r["set"] == name]
        g = s["gen"]
        prep = ["`v6rep import` %.1f s (store %.0f MiB on disk)"
                % (s["import_s"], s["store_du_bytes"] / 2**20)]
        if "rbldnsd_export_s" in s:
            prep.append("`v6rep list --format rbldnsd` %.1f s (%.0f MiB)"
                        % (s["rbldnsd_export_s"], s["rbldnsd_bytes"] / 2**20))
        if "nsd_render_s" in s:
            prep.append("NSD zone rendering %.1f s (%.0f MiB; %s), nsd-checkzone %.1f s"
                        % (s["nsd_render_s"], s["nsd_zone_bytes"] / 2**20,
                           s["nsd_render_note"].replace("nsd_zone: ", ""), s["nsd_checkzone_s"]))
        lines += ["## Set %s: %d entries, %d query lines (%d distinct)"
                  % (name, g["entries"], g["query_lines"], g["distinct_queries"]), "",
                  "Preparation: " + ", ".join(prep) + ".", ""]
        lines += ["| server | qps (median) | CPU us/answered query (median) | v6repd/server "
                  "CPU per query (median of per-round ratios) | server CPU busy (median) "
                  "| lost (max) | response bytes |",
                  "|---|---|---|---|---|---|---|"]
        sres = {}
        by = {srv: {r["round"]: r for r in rs if r["server"] == srv} for srv in SERVERS}
        for srv in SERVERS:
            rr = list(by[srv].values())
            if not rr:
                continue
            ratios = [by["v6repd"][k]["cpu_us_per_query"] / by[srv][k]["cpu_us_per_query"]
                      for k in by[srv] if k in by["v6repd"] and by[srv][k]["cpu_us_per_query"]]
            sres[srv] = {"qps": med([r["qps"] for r in rr]),
                         "cpu_us": med([r["cpu_us_per_query"] for r in rr]),
                         "ratio": med(ratios), "ratios": ratios,
                         "lost_max": max(r["lost"] for r in rr),
                         "util": med([r["server_util"] for r in rr]),
                         "resp_bytes": med([r["resp_bytes"] for r in rr]),
                         "pss_mib": med([r["pss_kib"] for r in rr]) / 1024,
                         "rss_mib": med([r["rss_kib"] for r in rr]) / 1024,
                         "startup": med([r["startup_s"] for r in rr]),
                         "startup_max": max(r["startup_s"] for r in rr)}
            x = sres[srv]
            lines.append("| %s | %.0f | %.2f | %s | %.0f%% | %d | %.0f |"
                         % (srv, x["qps"], x["cpu_us"],
                            "-" if srv == "v6repd" else "%.2f" % x["ratio"], 100 * x["util"],
                            x["lost_max"], x["resp_bytes"]))
        loads = [r["loadavg"] for r in rs]
        if loads:
            lines += ["", "Per-round v6repd/rbldnsd CPU ratios: %s; v6repd/NSD: %s. Load average"
                      " at run starts: min %.1f, median %.1f, max %.1f."
                      % (", ".join("%.2f" % v for v in sres.get("rbldnsd", {}).get("ratios", [])),
                         ", ".join("%.2f" % v for v in sres.get("nsd", {}).get("ratios", [])),
                         min(loads), med(loads), max(loads))]
        lines += ["", "| server | PSS MiB (median) | RSS MiB (median) | v6repd PSS / server PSS "
                  "| start-up to first answer, median (max) s |", "|---|---|---|---|---|"]
        for srv in SERVERS:
            if srv not in sres:
                continue
            x = sres[srv]
            pr = "-" if srv == "v6repd" or "v6repd" not in sres else \
                "%.3f" % (sres["v6repd"]["pss_mib"] / x["pss_mib"])
            lines.append("| %s | %.1f | %.1f | %s | %.3f (%.3f) |" % (srv, x["pss_mib"],
                                                                     x["rss_mib"], pr,
                                                                     x["startup"],
                                                                     x["startup_max"]))
        e = extra["sets"].get(name, {})
        if e.get("cold"):
            lines += ["", "v6repd start-up after dropping the page cache (store read from disk):"
                      " median %.3f s, max %.3f s over %d starts." % (med(e["cold"]), max(e["cold"]),
                                                                  len(e["cold"]))]
            if e.get("cold_empty") and e.get("warm_empty"):
                lines[-1] += (" Baseline, v6repd with an empty store (process start, libraries,"
                              " socket; polled on the RFC 5782 test point): warm median %.3f s"
                              " (max %.3f), cold median %.3f s (max %.3f)."
                              % (med(e["warm_empty"]), max(e["warm_empty"]),
                                 med(e["cold_empty"]), max(e["cold_empty"])))
        if e.get("add_lat"):
            la = [x * 1000 for x in e["add_lat"]]
            lines += ["", "Add-to-served (from `v6rep add` returning to v6repd answering the new "
                      "/128, polled every %.1f ms, %d times): median %.2f ms, max %.2f ms; the "
                      "`v6rep add` command itself took median %.1f ms. %d of %d were answered by"
                      " the first query sent after `v6rep add` returned (the change was visible"
                      " at once; the time is that query's round trip); over all %d samples, %d"
                      " polls got a stale answer (not yet listed) and %d got no answer within"
                      " %.1f ms (the server or the poller not scheduled in time)."
                      % (a.poll_ms, len(la), med(la), max(la),
                         med(e["add_cmd"]) * 1000,
                         sum(1 for n in e["add_polls"] if n[0] == 1), len(la), len(la),
                         sum(n[1] for n in e["add_polls"]),
                         sum(n[0] - n[1] - 1 for n in e["add_polls"]), a.poll_ms)]
            c = e.get("add_ctl")
            if c:
                lines[-1] += (" Control, the same polling of an unchanged listed name: %d of %d"
                              " polls got no answer within %.1f ms." % (c[1], c[0], a.poll_ms))
        if e.get("perf"):
            lines += ["", "perf profile of v6repd: `%s`." % e["perf"]]
        lines.append("")
        res["sets"][name] = {"facts": s, "servers": sres, "extra": e}
    # Targets.
    t = []
    for name, sr in res["sets"].items():
        v = sr["servers"]
        if "v6repd" in v and "rbldnsd" in v:
            t.append(("CPU/query <= 0.9 x rbldnsd (%s)" % name, v["rbldnsd"]["ratio"] <= 0.9,
                      "%.2f" % v["rbldnsd"]["ratio"]))
        if "v6repd" in v and "nsd" in v:
            r = v["v6repd"]["pss_mib"] / v["nsd"]["pss_mib"]
            t.append(("PSS < 0.1 x NSD (%s)" % name, r < 0.1, "%.3f" % r))
        e = sr["extra"]
        if e.get("add_lat"):
            mx = max(e["add_lat"]) * 1000
            t.append(("add-to-served within 10 ms (%s, max)" % name, mx <= 10, "%.2f ms" % mx))
    big = sets[-1]["name"] if sets else None
    if big and "v6repd" in res["sets"][big]["servers"]:
        v = res["sets"][big]["servers"]["v6repd"]
        t.append(("first answer within 0.2 s (%s, warm, max)" % big, v["startup_max"] <= 0.2,
                  "%.3f s" % v["startup_max"]))
        cold = res["sets"][big]["extra"].get("cold")
        if cold:
            t.append(("first answer within 0.2 s (%s, cold cache, max)" % big, max(cold) <= 0.2,
                      "%.3f s" % max(cold)))
    lines += ["## Targets", "", "| target | met | value |", "|---|---|---|"]
    for name, ok, val in t:
        lines.append("| %s | %s | %s |" % (name, "yes" if ok else "NO", val))
        res["targets"][name] = {"met": ok, "value": val}
    lines.append("")
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    return "\n".join(lines)


# ---------------------------------------------------------------- main

def main():
    global PIDFILE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--build", required=True, help="directory with v6repd and v6rep")
    ap.add_argument("--sets", default="140k:140000,1m:1000000",
                    help="NAME:ENTRIES,... (default 140k:140000,1m:1000000)")
    ap.add_argument("--queries", type=int, default=250000)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    ap.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load first")
    ap.add_argument("--clients", type=int, default=2, help="dnsperf -c")
    ap.add_argument("--outstanding", type=int, default=100, help="dnsperf -q")
    ap.add_argument("--start-timeout", type=int, default=900)
    ap.add_argument("--add-tries", type=int, default=20)
    ap.add_argument("--add-timeout", type=float, default=2.0)
    ap.add_argument("--poll-ms", type=float, default=0.5)
    ap.add_argument("--cold-starts", type=int, default=3)
    ap.add_argument("--perf", choices=["never", "always", "auto"], default="auto",
                    help="perf profile of v6repd (auto: when a CPU target is missed)")
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--v6repd-arg", action="append", default=[])
    ap.add_argument("--rbldnsd-arg", action="append", default=[])
    ap.add_argument("--cmdline", default=" ".join(sys.argv))
    a = ap.parse_args()
    a.v6repd = os.path.join(a.build, "v6repd")
    a.v6rep = os.path.join(a.build, "v6rep")
    servers = [s for s in a.servers.split(",") if s]
    os.makedirs(a.out, exist_ok=True)
    os.chmod(a.out, 0o755)
    PIDFILE = os.path.join(a.out, "pids")
    logdir = os.path.join(a.out, "logs")
    os.makedirs(logdir, exist_ok=True)
    with open(os.path.join(a.out, "v6repd-extra.csv"), "w") as xf:
        xf.write("set,metric,index,value\n")
    # The driver, its pollers and the generators stay on CPU 1 with dnsperf; servers get CPU 0.
    try:
        os.sched_setaffinity(0, {1})
    except OSError:
        pass

    def on_signal(sig, _frm):
        raise KeyboardInterrupt("signal %d" % sig)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    extra = {"sets": {}, "kernel": os.uname().release, "cpu_model": "?"}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    extra["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    rows, sets = [], []
    csvpath = os.path.join(a.out, "runs.csv")
    fields = ["set", "round", "server", "qps", "completed", "sent", "lost", "runtime_s", "cpu_s",
              "cpu_us_per_query", "server_util", "pss_kib", "rss_kib", "startup_s", "latency_ms",
              "resp_bytes", "rcvbuf_drops", "loadavg", "rcodes"]
    try:
        with open(csvpath, "w", newline="") as cf:
            w = csv.DictWriter(cf, fieldnames=fields)
            w.writeheader()
            for spec in a.sets.split(","):
                name, n = spec.split(":")
                setdir = os.path.join(a.out, "sets", name)
                facts = prepare_set(a, name, int(n), setdir, servers)
                sets.append(facts)
                log("%s: %d rounds of %s" % (name, a.rounds, ", ".join(servers)))
                for rnd in range(a.rounds):
                    order = servers[rnd % len(servers):] + servers[:rnd % len(servers)]
                    for srv in order:
                        row = one_run(a, srv, rnd, name, setdir, facts, logdir)
                        rows.append(row)
                        w.writerow(row)
                        cf.flush()
                e = extra["sets"].setdefault(name, {})
                if "v6repd" in servers:
                    log("%s: v6repd cold starts (and an empty store's, as a baseline)" % name)
                    e["cold"] = start_samples(a, name + "-cold", setdir, facts, logdir,
                                              a.cold_starts, True)
                    edir, efacts = empty_store(a, a.out)
                    e["cold_empty"] = start_samples(a, name + "-empty-cold", edir, efacts, logdir,
                                                    a.cold_starts, True)
                    e["warm_empty"] = start_samples(a, name + "-empty-warm", edir, efacts, logdir,
                                                    a.rounds, False)
                    log("%s: add-to-served latency" % name)
                    e["add_lat"], e["add_cmd"], e["add_polls"], e["add_ctl"] = add_latency(
                        a, name, setdir, facts, logdir, a.add_tries)
                    log("%s: add-to-served median %.2f ms max %.2f ms"
                        % (name, med(e["add_lat"]) * 1000, max(e["add_lat"]) * 1000))
                    with open(os.path.join(a.out, "v6repd-extra.csv"), "a") as xf:
                        for i, v in enumerate(e["cold"] or []):
                            xf.write("%s,cold_start_s,%d,%.6f\n" % (name, i, v))
                        for i, (v, c, n) in enumerate(zip(e["add_lat"], e["add_cmd"],
                                                          e["add_polls"])):
                            xf.write("%s,add_to_served_ms,%d,%.4f\n" % (name, i, v * 1000))
                            xf.write("%s,add_polls,%d,%d\n" % (name, i, n[0]))
                            xf.write("%s,add_stale_answers,%d,%d\n" % (name, i, n[1]))
                            xf.write("%s,add_command_ms,%d,%.4f\n" % (name, i, c * 1000))
                    miss = False
                    if "rbldnsd" in servers:
                        vr = [r for r in rows if r["set"] == name]
                        v6 = {r["round"]: r["cpu_us_per_query"] for r in vr
                              if r["server"] == "v6repd"}
                        rb = {r["round"]: r["cpu_us_per_query"] for r in vr
                              if r["server"] == "rbldnsd"}
                        miss = med([v6[k] / rb[k] for k in v6 if rb.get(k)]) > 0.9
                    if a.perf == "always" or (a.perf == "auto" and miss):
                        log("%s: perf profile of v6repd" % name)
                        e["perf"] = perf_profile(a, name, setdir, facts, logdir, a.out)
        text = report(a, sets, rows, extra, a.out)
        print(text)
        log("results in %s (results.md, runs.csv, results.json)" % a.out)
        return 0
    except Abort as e:
        log("ABORT: %s" % e)
        if rows:
            report(a, sets, rows, extra, a.out)
        return 1
    except KeyboardInterrupt as e:
        log("interrupted (%s)" % e)
        return 130
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
