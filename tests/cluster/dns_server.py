"""A tiny authoritative DNS server on loopback, answers built with dnspython, for discovery tests."""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from beam_nodes import LOOPBACK


class DnsServer:
    """records: {(name, "A"|"AAAA"|"SRV"): [rdata text]}; names in `silent` get no answer at all."""

    def __init__(self, records: dict[tuple[str, str], list[str]], silent: set[str] = frozenset()) -> None:
        self.records = {(name.rstrip(".").lower(), kind): values for (name, kind), values in records.items()}
        self.silent = {name.rstrip(".").lower() for name in silent}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.port = self.sock.getsockname()[1]
        self.queries: list[tuple[str, str]] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def nameserver(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                data, client = self.sock.recvfrom(4096)
            except OSError:
                return  # closed
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            kind = dns.rdatatype.to_text(question.rdtype)
            self.queries.append((name, kind))
            if name in self.silent:
                continue
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            if not any(n == name for n, _ in self.records):
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif (name, kind) in self.records:
                response.answer.append(dns.rrset.from_text_list(question.name, 30, dns.rdataclass.IN, kind,
                                                                self.records[(name, kind)]))
            try:
                self.sock.sendto(response.to_wire(), client)
            except OSError:
                return  # closed while answering

    def close(self) -> None:
        self.sock.close()
