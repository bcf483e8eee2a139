"""sim_log.py: Postfix maillog lines (smtpd and postscreen) and the time-ordered maillog writer.

Line shapes follow the real samples (shared/samples/postfix-*.log) and INPUTS.md section 2:
  smtpd:      NOQUEUE: reject: RCPT from NAME[ADDR]:PORT: 554 5.7.1 Service unavailable; Client host
              [ADDR] blocked using ZONE; REASON; from=<..> to=<..> proto=ESMTP helo=<..>
  postscreen: NOQUEUE: reject: RCPT from [ADDR]:PORT: 550 5.7.1 Service unavailable; client [ADDR]
              blocked using ZONE; from=<..>, to=<..>, proto=ESMTP, helo=<..>
A session is a list of (offset_us, prog, message, op); the writer turns them into
`TIMESTAMP HOST postfix/PROG[PID]: MESSAGE` and hands out smtpd PIDs in time order (a session's
first smtpd line takes a free smtpd process, op CLOSE on its last one frees it), so concurrent
sessions never share a PID.
"""

import time

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

CLOSE = 2


class Stamp:
    """Syslog timestamps: RFC 3164 ('Mar  4 00:00:01', or zero-padded as postlogd writes) or
    RFC 3339 with microseconds ('2024-03-04T00:00:01.123456+00:00'), in a fixed UTC offset."""

    def __init__(self, style, day_pad, tz_min):
        self.style = style
        self.day_pad = day_pad
        self.tz_min = tz_min
        sign = "-" if tz_min < 0 else "+"
        self.tz_txt = "%s%02d:%02d" % (sign, abs(tz_min) // 60, abs(tz_min) % 60)
        self._sec = None
        self._txt = ""

    def __call__(self, t_us):
        sec = t_us // 1000000
        if sec != self._sec:
            tm = time.gmtime(sec + self.tz_min * 60)
            self._sec = sec
            if self.style == "rfc3339":
                self._txt = "%04d-%02d-%02dT%02d:%02d:%02d" % tm[:6]
            else:
                day = ("%2d" if self.day_pad == "space" else "%02d") % tm.tm_mday
                self._txt = "%s %s %02d:%02d:%02d" % (MONTHS[tm.tm_mon - 1], day, tm.tm_hour,
                                                       tm.tm_min, tm.tm_sec)
        if self.style == "rfc3339":
            return "%s.%06d%s" % (self._txt, t_us % 1000000, self.tz_txt)
        return self._txt


class MaillogWriter:
    """Formats log events given in time order (the caller pops them from the event heap) and
    writes them to f. keyed=True prefixes each line with its time in microseconds and a TAB (the
    temporary file that --maillog-lines merges with the filler afterwards)."""

    def __init__(self, f, mta_names, stamp, keyed=False, pid_base=1000):
        self.f = f
        self.names = mta_names
        self.stamp = stamp
        self.keyed = keyed
        self.n_lines = 0
        self.n_dnsbl = 0
        # Per MTA: free smtpd PIDs, next new PID, uses per PID (smtpd max_use 100), fixed PIDs.
        self.free = [[] for _ in mta_names]
        self.next_pid = [pid_base + 7919 * i for i in range(len(mta_names))]
        self.uses = [{} for _ in mta_names]
        self.sess = {}
        self.fixed = []
        for i in range(len(mta_names)):
            base = 700 + 3001 * i
            self.fixed.append({"qmgr": base, "cleanup": base + 17, "local": base + 23,
                               "postscreen": base + 5, "dnsblog": base + 6, "anvil": base + 29,
                               "master": base - 2, "postfix-script": base - 9})

    def _smtpd_pid(self, mta, sess, op):
        pid = self.sess.get(sess)
        if pid is None:
            free = self.free[mta]
            if free:
                pid = free.pop()
            else:
                pid = self.next_pid[mta]
                self.next_pid[mta] += 1 + (pid * 7) % 11
            self.sess[sess] = pid
        if op == CLOSE:
            del self.sess[sess]
            uses = self.uses[mta]
            n = uses.get(pid, 0) + 1
            if n >= 100:                   # smtpd exits after max_use sessions
                uses.pop(pid, None)
            else:
                uses[pid] = n
                self.free[mta].append(pid)
        return pid

    def fmt(self, t_us, ev):
        """ev = ('L', mta, sess, prog, msg, op) -> one log line with its newline."""
        _, mta, sess, prog, msg, op = ev
        if prog == "smtpd":
            pid = self._smtpd_pid(mta, sess, op)
        else:
            pid = self.fixed[mta][prog]
            if prog == "postfix-script":
                self.fixed[mta][prog] += 3
        self.n_lines += 1
        if "blocked using" in msg:
            self.n_dnsbl += 1
        return "%s %s postfix/%s[%d]: %s\n" % (self.stamp(t_us), self.names[mta], prog, pid, msg)

    def write(self, t_us, ev):
        if self.keyed:
            self.f.write("%d\t" % t_us)
        self.f.write(self.fmt(t_us, ev))


# ---- message builders ----

def namaddr(name, addr, port, port_logging):
    if port_logging:
        return "%s[%s]:%d" % (name, addr, port)
    return "%s[%s]" % (name, addr)


def queue_id(rng, t_us):
    """Postfix short queue ID: microseconds in 5 hex digits, then the inode number in hex."""
    return "%05X%X" % (t_us % 1000000, rng.randrange(0x100000, 0xFFFFFF))


def dnsbl_reject_smtpd(na, addr, code, zone, reason, frm, to, helo, proto):
    dsn = "4.7.1" if code.startswith("4") else "5.7.1"
    text = "%s %s Service unavailable; Client host [%s] blocked using %s" % (code, dsn, addr, zone)
    if reason:
        text += "; " + reason
    return "NOQUEUE: reject: RCPT from %s: %s; from=<%s> to=<%s> proto=%s helo=<%s>" % (
        na, text, frm, to, proto, helo)


def dnsbl_reject_postscreen(addr, port, code, zone, frm, to, helo):
    return ("NOQUEUE: reject: RCPT from [%s]:%d: %s 5.7.1 Service unavailable; client [%s] blocked "
            "using %s; from=<%s>, to=<%s>, proto=ESMTP, helo=<%s>" % (addr, port, code, addr, zone,
                                                                       frm, to, helo))


OTHER_REJECTS = (
    ("550 5.1.1 <{to}>: Recipient address rejected: User unknown in local recipient table", "ESMTP"),
    ("450 4.7.1 Client host rejected: cannot find your hostname, [{addr}]", "ESMTP"),
    ("450 4.7.1 <{helo}>: Helo command rejected: Host not found", "ESMTP"),
    ("554 5.7.1 <{to}>: Relay access denied", "ESMTP"),
    ("450 4.1.8 <{frm}>: Sender address rejected: Domain not found", "ESMTP"),
)


def other_reject(rng, na, addr, frm, to, helo):
    tmpl, proto = OTHER_REJECTS[rng.randrange(len(OTHER_REJECTS))]
    if "cannot find your hostname" in tmpl and not na.startswith("unknown["):
        tmpl, proto = OTHER_REJECTS[0]
    text = tmpl.format(to=to, addr=addr, helo=helo, frm=frm)
    return "NOQUEUE: reject: RCPT from %s: %s; from=<%s> to=<%s> proto=%s helo=<%s>" % (
        na, text, frm, to, proto, helo)


TLS = ("Anonymous TLS connection established from %s: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
       "(256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256")


def session_dnsbl(rng, s):
    """A DNSBL-listed client: smtpd lines (or postscreen's, by s['style']). Returns (lines, end)."""
    if s["style"] == "postscreen":
        return _postscreen_dnsbl(rng, s)
    na = namaddr(s["name"], s["addr"], s["port"], s["port_logging"])
    proto = "SMTP" if s["helo_cmd"] == "helo" else "ESMTP"
    t = int(rng.uniform(0.02, 0.4) * s["rtt"] / 1000) + 2000
    out = [(0, "smtpd", "connect from " + na, 0)]
    if s.get("warn_name"):
        out.insert(0, (0, "smtpd", "warning: hostname %s does not resolve to address %s: Name or "
                       "service not known" % (s["warn_name"], s["addr"]), 0))
    t += int(s["rtt"] * 3 + rng.uniform(0, 400000))
    nrcpt = s["nrcpt"]
    for i in range(nrcpt):
        out.append((t, "smtpd", dnsbl_reject_smtpd(na, s["addr"], s["code"], s["zone"],
                                                   s["reason"], s["frm"], s["to"][i], s["helo"],
                                                   proto), 0))
        t += int(s["rtt"] + rng.uniform(0, 20000))
    cmd = s["helo_cmd"]
    if s["quit"]:
        out.append((t, "smtpd", "disconnect from %s %s=1 mail=1 rcpt=0/%d quit=1 commands=3/%d"
                    % (na, cmd, nrcpt, nrcpt + 3), 0))
    else:
        t += int(rng.uniform(0, 300000))
        out.append((t, "smtpd", "lost connection after RCPT from " + na, 0))
        out.append((t, "smtpd", "disconnect from %s %s=1 mail=1 rcpt=0/%d commands=2/%d"
                    % (na, cmd, nrcpt, nrcpt + 2), 0))
    return _mark(out), t


def _postscreen_dnsbl(rng, s):
    a, p = s["addr"], s["port"]
    out = [(0, "postscreen", "CONNECT from [%s]:%d to [%s]:25" % (a, p, s["mta_addr"]), 0)]
    t = int(rng.uniform(2000, 40000))
    out.append((t, "dnsblog", "addr %s listed by domain %s as 127.0.0.%d"
                % (a, s["zone"], rng.choice((2, 3, 4, 10, 11))), 0))
    t += int(rng.uniform(1.0, 6.0) * 1e6)
    out.append((t, "postscreen", "DNSBL rank %d for [%s]:%d" % (rng.randint(1, 4), a, p), 0))
    t += int(s["rtt"] * 3 + rng.uniform(0, 200000))
    out.append((t, "postscreen", dnsbl_reject_postscreen(a, p, s["ps_code"], s["zone"], s["frm"],
                                                         s["to"][0], s["helo"]), 0))
    t += int(s["rtt"] + rng.uniform(0, 50000))
    out.append((t, "postscreen", "DISCONNECT [%s]:%d" % (a, p), 0))
    return out, t


def session_accept(rng, s):
    """An accepted message (or a non-DNSBL reject when s['other_reject'])."""
    out = []
    t = 0
    if s["style"] == "postscreen":
        out.append((0, "postscreen", "CONNECT from [%s]:%d to [%s]:25" % (s["addr"], s["port"],
                                                                          s["mta_addr"]), 0))
        t = int(rng.uniform(2000, 30000))
        out.append((t, "postscreen", "PASS OLD [%s]:%d" % (s["addr"], s["port"]), 0))
        t += int(rng.uniform(500, 5000))
    na = namaddr(s["name"], s["addr"], s["port"], s["port_logging"])
    out.append((t, "smtpd", "connect from " + na, 0))
    t += int(s["rtt"] * 2 + rng.uniform(1000, 60000))
    tls = s.get("tls")
    if tls:
        out.append((t, "smtpd", TLS % na, 0))
        t += int(s["rtt"] * 2 + rng.uniform(1000, 30000))
    if s.get("other_reject"):
        out.append((t, "smtpd", other_reject(rng, na, s["addr"], s["frm"], s["to"][0], s["helo"]), 0))
        t += int(s["rtt"] + rng.uniform(1000, 30000))
        out.append((t, "smtpd", "disconnect from %s ehlo=%d%s mail=1 rcpt=0/1 quit=1 commands=%d/%d"
                    % (na, 2 if tls else 1, " starttls=1" if tls else "", 5 if tls else 3,
                       6 if tls else 4), 0))
        return _mark(out), t
    t += int(s["rtt"] * 2)
    qid = queue_id(rng, s["t0"] + t)
    out.append((t, "smtpd", "%s: client=%s" % (qid, na), 0))
    t += int(rng.uniform(2000, 90000))
    out.append((t, "cleanup", "%s: message-id=<%s>" % (qid, s["msgid"]), 0))
    t += int(rng.uniform(500, 20000))
    size = rng.randint(900, 120000)
    out.append((t, "qmgr", "%s: from=<%s>, size=%d, nrcpt=1 (queue active)" % (qid, s["frm"], size), 0))
    t += int(s["rtt"] * 2 + rng.uniform(500, 8000))
    out.append((t, "smtpd", "disconnect from %s ehlo=%d%s mail=1 rcpt=1 data=1 quit=1 commands=%d"
                % (na, 2 if tls else 1, " starttls=1" if tls else "", 7 if tls else 5), 0))
    d = rng.uniform(0.005, 0.4)
    t += int(d * 1e6)
    out.append((t, "local", "%s: to=<%s>, relay=local, delay=%.2g, delays=%.2g/%.2g/0/%.2g, dsn=2.0.0, "
                "status=sent (delivered to mailbox)" % (qid, s["to"][0], d + 0.1, 0.1, d / 3,
                                                        d * 2 / 3), 0))
    t += int(rng.uniform(100, 2000))
    out.append((t, "qmgr", "%s: removed" % qid, 0))
    return _mark(out), t


def _mark(out):
    """Flags the session's last smtpd line: the writer frees that smtpd process after it (the
    process is taken at the session's first smtpd line)."""
    for i in range(len(out) - 1, -1, -1):
        if out[i][1] == "smtpd":
            o = out[i]
            out[i] = (o[0], o[1], o[2], CLOSE)
            break
    return out
