#!/usr/bin/env python3
"""capture_lo.py: opens TCP connections over 127.0.0.1 and ::1 with varied socket options, so that
tcpdump on lo records real Linux SYNs. Used for real-lo.pcap:

  tcpdump -i lo -w /tmp/lo.pcap -U tcp & python3 capture_lo.py; kill %1
  tcpdump -r /tmp/lo.pcap -w real-lo.pcap '((ip and tcp[13] & 0x12 == 2) or
      (ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 2)) and dst portrange 39125-39127'
  TZ=UTC p0f -r real-lo.pcap -o real-lo.log
"""
import socket, time
P4, P6, CLOSED = 39125, 39126, 39127
s4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s4.bind(("127.0.0.1", P4)); s4.listen(16)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); s6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s6.bind(("::1", P6)); s6.listen(16)
def conn(fam, addr, port, opts=()):
    c = socket.socket(fam, socket.SOCK_STREAM)
    for lvl, name, val in opts:
        c.setsockopt(lvl, name, val)
    try:
        c.settimeout(2); c.connect((addr, port))
    except OSError:
        pass
    c.close(); time.sleep(0.05)
conn(socket.AF_INET, "127.0.0.1", P4)
conn(socket.AF_INET6, "::1", P6)
conn(socket.AF_INET, "127.0.0.1", P4, [(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1200)])
conn(socket.AF_INET6, "::1", P6, [(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1200)])
conn(socket.AF_INET, "127.0.0.1", P4, [(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
conn(socket.AF_INET, "127.0.0.1", P4, [(socket.IPPROTO_IP, socket.IP_TOS, 0x10)])
conn(socket.AF_INET, "127.0.0.1", CLOSED)
conn(socket.AF_INET6, "::1", CLOSED)
conn(socket.AF_INET, "127.0.0.1", P4, [(socket.IPPROTO_IP, socket.IP_TTL, 30)])
conn(socket.AF_INET6, "::1", P6, [(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 100)])
