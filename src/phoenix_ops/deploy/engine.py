"""The rollout: each step named, journaled when done, skipped when a resumed run finds it done; a
failed step or gate rolls every host back to what it ran before."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from phoenix_ops.deploy import balancer, beam, gates, remote, upload
from phoenix_ops.deploy.journal import Journal, Run
from phoenix_ops.deploy.journal import step as journaled_step
from phoenix_ops.deploy.plan import Host, Plan
from phoenix_ops.deploy.remote import RemoteError, Session
from phoenix_ops.record import field, record
from phoenix_ops.release.artifact import Contents

BLUE, GREEN, MAIN = "blue", "green", "main"
JOIN_SECONDS = 30.0  # a started node has this long to connect to the running ones (libcluster, dns_cluster)
JOIN_POLL_SECONDS = 0.2  # asking a node costs a few milliseconds through the SSH connection
RECONNECT_SECONDS = 3.0  # a host that answered when the deploy began, asked again by the rollback


class DeployFailed(RuntimeError):
    """The deploy stopped; `rolled_back` says whether the old version serves again."""

    def __init__(self, message: str, rolled_back: bool):
        super().__init__(message)
        self.rolled_back = rolled_back


@record
class Deployer:
    plan: Plan
    journal: Journal
    app: str
    tarball: Path
    version: str
    say: Callable[[str], None]
    ssh: dict = field(default_factory=dict)  # known_hosts, identity
    sessions: dict[str, Session] = field(default_factory=dict)
    run: Run | None = None
    names: dict[str, str] = field(default_factory=dict)  # host label -> the node name it answered with
    node_facts: dict[tuple[str, str, str], beam.NodeFacts] = field(default_factory=dict)  # (host, version, colour)
    rpc_only: set[str] = field(default_factory=set)  # host labels whose node only `bin/<app> rpc` can ask
    issued: asyncio.Future | None = None  # (issuer URL, jar) of a session an old node issued, or None
    naming: asyncio.Future | None = None  # the running nodes' names being learned while the release uploads
    contents: Contents | None = None  # the release's files by content, read with its name and version
    packed: dict[tuple[str, str], asyncio.Future] = field(default_factory=dict)  # (base, its manifest) -> small tar

    # --- plumbing -------------------------------------------------------------------------------

    async def connect(self) -> None:
        targets = list(self.plan.hosts) + ([self.plan.balancer.ssh] if self.plan.balancer and
                                           self.plan.balancer.ssh else [])
        opened = await asyncio.gather(*(remote.connect(h, **self.ssh) for h in targets), return_exceptions=True)
        failed = [str(r) for r in opened if isinstance(r, BaseException)]
        for session in opened:
            if isinstance(session, Session):
                self.sessions[session.host.label] = session
        if failed:
            await self.close()
            raise RemoteError("; ".join(failed))

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self.sessions.values()), return_exceptions=True)

    def session(self, host: Host) -> Session:
        return self.sessions[host.label]

    async def step(self, name: str, action: Callable[[], Awaitable[object]]) -> None:
        await journaled_step(self.journal, self.run, self.say, name, action)

    async def state(self, host: Host) -> dict[str, str]:
        out = await self.session(host).run(remote.state_script(host), timeout=20)
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line and line.split("=", 1)[1])

    async def point(self, servers: list[str]) -> None:
        if self.plan.balancer is None:
            return
        lb = self.plan.balancer
        await balancer.point(lb, servers, self.session(lb.ssh) if lb.ssh else None)

    def server(self, host: Host, color: str) -> str:
        return f"{host.address}:{self.port(host, color)}"

    def port(self, host: Host, color: str) -> int:
        return host.port + 1 if color == GREEN else host.port

    # --- node operations ------------------------------------------------------------------------

    async def install(self, host: Host) -> None:
        """The release on the host, sending only what it lacks (upload); what was sent is said and journaled."""
        sent = await upload.install(self.session(host), self.version, self.contents, self.tarball, self.pack)
        self.say(f"{host.label}: {upload.describe(sent, self.contents)}")
        if self.run:
            self.journal.write(deploy=self.run.id, event="upload", host=host.label, sent=sent.bytes,
                               files=sent.files, reused=sent.reused, base=sent.base)

    async def pack(self, base: str, held: str) -> tuple[bytes, upload.Reuse]:
        """The small tar for hosts holding `base` with manifest `held`: made once, off the event loop."""
        def make() -> tuple[bytes, upload.Reuse]:
            reuse = upload.plan_reuse(self.contents, base, held)
            return upload.small_tar(self.tarball, self.contents, reuse), reuse
        if (base, held) not in self.packed:
            self.packed[(base, held)] = background(asyncio.to_thread(make))
        return await self.packed[(base, held)]

    async def start(self, host: Host, color: str, version: str, *, switch: bool = False,
                    replace: bool = False) -> None:
        """Start `version` as `color` (after pointing `current` at it, with `switch`; after stopping
        what runs as `color`, with `replace`), then wait until it is ready; a release that dies while
        booting fails at once rather than after the whole readiness timeout."""
        port = self.port(host, color)
        session = self.session(host)
        script = remote.start_script(self.plan, host, self.app, version, color, port)
        if switch:
            script = f"{remote.switch_script(host, version)}; {script}"
        if replace:
            script = f"({remote.stop_script(host, color, self.plan.stop_timeout)}) >/dev/null; {script}"
        said = await session.run(script)
        if facts := beam.parse_facts(said):
            self.node_facts[(host.label, version, color)] = facts
        deadline = asyncio.get_running_loop().time() + self.plan.ready_timeout
        alive = f"{remote.ALIVE}alive \"$(cat {host.root}/run/{color}.pid)\" && echo up || echo down"
        while True:
            try:
                await gates.ready(host.url(port), self.plan.ready, timeout=2.0)
                return
            except gates.GateFailed:
                dead = (await session.run(alive, timeout=10)).strip() == "down"
                if dead or asyncio.get_running_loop().time() > deadline:
                    log = await session.run(f"tail -n 5 {host.root}/log/{color}.log || true", timeout=10)
                    why = "exited while booting" if dead else f"not ready within {self.plan.ready_timeout:g} s"
                    raise gates.GateFailed(f"{host.label} {version} on port {port} never became ready ({why}): "
                                           f"{' | '.join(log.strip().splitlines()[-3:])[:300]}") from None

    async def rpc(self, host: Host, version: str, expr: str) -> str:
        """What `expr` prints on the host's running node, asked by a VM booted on the host."""
        out = await self.session(host).run(remote.rpc_script(self.plan, host, self.app, version, expr), timeout=60)
        return (out.strip().splitlines() or [""])[-1]

    async def facts(self, host: Host, version: str) -> beam.NodeFacts:
        """How the host's node of `version` is named and found: said by its start, else by one short
        command (a node started by an earlier run), and remembered."""
        key = (host.label, version, MAIN)
        if key not in self.node_facts:
            facts = beam.parse_facts(await self.session(host).run(remote.node_script(
                self.plan, host, self.app, version, MAIN, self.port(host, MAIN)), timeout=20))
            if facts is None:
                raise beam.Unreachable("the release's environment on the host does not say how its node is named")
            self.node_facts[key] = facts
        return self.node_facts[key]

    async def cluster_view(self, host: Host, version: str) -> tuple[str, set[str]] | None:
        """The running node's name and the nodes it sees; None when it runs without distribution.
        Asked as a hidden node through the SSH connection; `bin/<app> rpc` (a VM booted on the host for
        each question, a second or more) only where that cannot reach the node: a sshd that forwards
        no TCP, or TLS distribution, whose certificates only the release's own configuration holds."""
        facts = await self.facts(host, version)
        if facts.distribution == "none":
            return None
        if host.label not in self.rpc_only:
            try:
                return await beam.cluster_view(self.session(host).conn, facts)
            except beam.TunnelRefused as exc:
                self.say(f"{host.label}: {exc}; its node is asked with bin/{self.app} rpc from now on")
                self.rpc_only.add(host.label)
        own, *seen = (await self.rpc(host, version, 'IO.puts(Enum.join([node() | Node.list()], " "))')).split()
        return own, set(seen)

    async def peer_name(self, host: Host, version: str) -> str | None:
        try:
            view = await self.cluster_view(host, version)
        except (beam.Unreachable, RemoteError):
            return None  # a node that cannot be asked is not waited for
        return view[0] if view else None

    async def learn_names(self, hosts: list[Host]) -> None:
        """The names of the hosts' running nodes that are not known yet, asked and remembered."""
        unknown = [h for h in hosts if h.label not in self.names]
        states = await asyncio.gather(*(self.state(h) for h in unknown))
        running = [(h, state[MAIN]) for h, state in zip(unknown, states) if state.get(MAIN)]
        asked = await asyncio.gather(*(self.peer_name(h, version) for h, version in running))
        self.names.update((h.label, n) for (h, _), n in zip(running, asked) if n)

    async def joined(self, host: Host, hosts: list[Host]) -> None:
        """With distribution on, the new node must list every other running node in erlang:nodes(): one
        that booted outside the cluster would serve on its own (PubSub, Presence, global names). A
        running node's name, once asked, is remembered until that node restarts."""
        try:
            view = await self.cluster_view(host, self.version)
            if view is None:
                return
            if self.naming:
                await asyncio.wait([self.naming])  # what it could not learn is asked again below
            own, seen = view
            self.names[host.label] = own
            await self.learn_names([h for h in hosts if h != host])
            names = {self.names[h.label] for h in hosts if h != host and h.label in self.names}
            loop = asyncio.get_running_loop()
            started = loop.time()
            while True:
                waited = loop.time() - started
                if names <= seen or waited > JOIN_SECONDS:
                    gates.joined(f"{host.label} ({own})", seen, names, round(waited))
                    self.say(f"{host.label} joined the cluster: {own} sees {len(seen)} node(s)")
                    return
                await asyncio.sleep(JOIN_POLL_SECONDS)
                own, seen = await self.cluster_view(host, self.version) or (own, seen)
        except beam.Unreachable as exc:
            raise gates.GateFailed(f"{host.label}: its node cannot be asked which nodes it sees: {exc}") from None

    async def stop(self, host: Host, color: str, *, drained: bool = False) -> None:
        """SIGTERM within the stop budget; a node the balancer `drained` is first seen to receive no
        new connection (the reload has taken effect), so nothing new reaches it while it stops."""
        quiet = self.port(host, color) if drained else None
        await self.session(host).run(remote.stop_script(host, color, self.plan.stop_timeout, quiet_port=quiet),
                                     timeout=self.plan.stop_timeout + remote.DRAIN_SECONDS + 30)

    # --- strategies -----------------------------------------------------------------------------

    async def upload(self, previous: dict[str, dict[str, str]]) -> None:
        """The release unpacked on every host at once, before any node is drained: a host whose disk
        or release directory refuses it stops the deploy while every node still runs what it ran.
        Meanwhile, in the background, the running nodes are asked what the gates compare the new ones
        against: a session one of them issues, and (rolling, canary) their node names; a node that
        cannot be asked now is asked again by its gate."""
        self.issued = background(gates.first_session(self.serving(previous), self.plan.session_page))
        if self.plan.strategy != "blue-green":
            self.naming = background(self.learn_names(list(self.plan.hosts)))
        await every([self.step(f"install {self.version} on {h.label}", lambda h=h: self.install(h))
                     for h in self.plan.hosts])

    def serving(self, previous: dict[str, dict[str, str]]) -> list[str]:
        """The URLs of the nodes that served when the deploy began."""
        urls = []
        for h in self.plan.hosts:
            state = previous.get(h.label, {})
            colour = live_colour(state) if self.plan.strategy == "blue-green" else MAIN
            if colour and state.get(colour):
                urls.append(h.url(self.port(h, colour)))
        return urls

    async def sessions_kept(self, old: list[str], new: str) -> None:
        """The session gate: the new node reads a session an old one issued (same secret_key_base and
        salts), the one taken while the release uploaded, or one asked for now. When it could
        compare nothing, the user is told why."""
        page = self.plan.session_page
        if why := await gates.same_sessions(await (self.issued or gates.first_session(old, page)), new, page):
            self.say(why)

    async def deploy(self, previous: dict[str, dict[str, str]]) -> None:
        hosts = list(self.plan.hosts)
        if self.plan.migrate:
            first = hosts[0]
            await self.step("migrate", lambda: self.session(first).run(
                remote.migrate_script(self.plan, first, self.version), timeout=600))
        if self.plan.strategy == "blue-green":
            await self.blue_green(hosts, previous)
        else:
            for i, batch in enumerate(self.batches()):
                await self.rolling(batch, hosts, previous)
                if self.plan.strategy == "canary" and i == 0:
                    others = [h.url(self.port(h, MAIN)) for h in hosts[1:]]
                    await self.step("canary gate", lambda: self.canary_gate(hosts[0], others))
        await self.step("assets on every node", lambda: gates.assets_everywhere(
            [h.url(self.port(h, self.live_color(h, previous))) for h in hosts]))

    def batches(self) -> list[list[Host]]:
        """The hosts each strategy takes out of the balancer together: the canary then the rest, or
        batches of the plan's size; for blue-green, every host, its new colour started beside the old."""
        hosts = list(self.plan.hosts)
        if self.plan.strategy == "blue-green":
            return [hosts]
        if self.plan.strategy == "canary":
            return [hosts[:1], hosts[1:]]
        return [hosts[i:i + self.plan.batch] for i in range(0, len(hosts), self.plan.batch)]

    def live_color(self, host: Host, previous: dict[str, dict[str, str]]) -> str:
        if self.plan.strategy != "blue-green":
            return MAIN
        old, new = self.colors(previous)
        return new if (self.run and f"switch {host.label} to {new}" in self.run.done) else old

    def colors(self, previous: dict[str, dict[str, str]]) -> tuple[str, str]:
        """(old, new): the colour the hosts serve from, and the other one, which the deploy takes
        over (blue when nothing serves yet)."""
        now = {live_colour(previous.get(h.label, {})) for h in self.plan.hosts} - {None}
        if len(now) > 1:
            raise gates.GateFailed("the hosts serve from different colours (" + ", ".join(
                f"{h.label} {live_colour(previous.get(h.label, {}))}" for h in self.plan.hosts) + ")")
        old = now.pop() if now else GREEN
        return old, BLUE if old == GREEN else GREEN

    async def canary_gate(self, canary: Host, others: list[str]) -> None:
        figures = await gates.canary_healthy(canary.url(), others, "/", self.plan.canary_window)
        self.say(f"canary gate passed: {figures}")

    async def rolling(self, batch: list[Host], hosts: list[Host], previous) -> None:
        """Drain the batch from the balancer, stop, switch, start, gate, put it back."""
        names = ", ".join(h.label for h in batch)
        rest = [self.server(h, MAIN) for h in hosts if h not in batch]
        if rest:
            await self.step(f"drain {names}", lambda: self.point(rest))
        # Node after node: a failure leaves the batch's later nodes untouched, so the rollback can
        # drain what it restarts behind them.
        for host in batch:
            await self.step(f"stop {host.label}", lambda h=host: self.stop(h, MAIN, drained=bool(rest)))
            await self.step(f"start {host.label} on {self.version}",  # `current` switched first
                            lambda h=host: self.start(h, MAIN, self.version, switch=True))
        gated = [self.step(f"joined {h.label}", lambda h=h: self.joined(h, hosts)) for h in batch]
        old = [h for h in hosts if h not in batch and previous.get(h.label, {}).get(MAIN)]
        if old:
            gated.append(self.step(f"sessions {names}", lambda: self.sessions_kept([h.url() for h in old],
                                                                                   batch[0].url())))
        await every(gated)
        await self.step(f"undrain {names}", lambda: self.point([self.server(h, MAIN) for h in hosts]))

    async def blue_green(self, hosts: list[Host], previous) -> None:
        """New colour beside the old on every host, gated, then the balancer switched at once. What
        ran as the new colour (the previous deploy's old colour, kept for `rollback`, or what an
        interrupted deploy started) is stopped first."""
        old, new = self.colors(previous)
        await every([self.step(f"start {h.label} {new}", lambda h=h: self.start(h, new, self.version, replace=True))
                     for h in hosts])  # the old colour serves everything meanwhile
        live_old = [h for h in hosts if previous.get(h.label, {}).get(old)]
        if live_old:
            await self.step("sessions", lambda: self.sessions_kept([h.url(self.port(h, old)) for h in live_old],
                                                                   hosts[0].url(self.port(hosts[0], new))))
        await self.step(f"switch balancer to {new}", lambda: self.point([self.server(h, new) for h in hosts]))
        await every([self.step(f"switch {h.label} to {new}", lambda h=h: self.session(h).run(
            remote.switch_script(h, self.version, new))) for h in hosts])

    async def prune(self, previous: dict[str, dict[str, str]]) -> None:
        """Once the deploy finished: on every host, the releases beyond the plan's `keep_releases`
        removed, never one that runs, `current`, or what a rollback would restore. A host that fails
        is named; the deploy stays finished."""
        if not self.plan.keep_releases:
            return

        async def prune(h: Host) -> None:
            ran = {v for k, v in previous.get(h.label, {}).items() if k not in ("current", "live")}
            removed = (await self.session(h).run(remote.prune_script(h, self.plan.keep_releases, ran),
                                                 timeout=60)).split()
            if removed:
                self.say(f"{h.label}: removed {len(removed)} old release(s): {', '.join(removed)}")
                if self.run:
                    self.journal.write(deploy=self.run.id, event="prune", host=h.label, removed=removed)

        for exc in await every([prune(h) for h in self.plan.hosts], tolerate=(RemoteError, OSError)):
            self.say(f"old releases left in place: {exc}")

    async def reach(self, host: Host) -> bool:
        """Whether the host answers over SSH now; a connection lost on the way (known lost, or failing
        to say the host's state) is opened again, once, within RECONNECT_SECONDS: a host that went
        silent mid-deploy does not hold the rollback of the others for a whole connect timeout."""
        session = self.sessions.get(host.label)
        if session and not session.lost:
            try:
                await self.state(host)
                return True
            except RemoteError:
                pass
        if session:
            await self.sessions.pop(host.label).close()
        try:
            self.sessions[host.label] = await remote.connect(host, **self.ssh, timeout=RECONNECT_SECONDS)
            return True
        except RemoteError:
            return False

    async def rollback(self, previous: dict[str, dict[str, str]]) -> tuple[list[str], list[str]]:
        """Every host that answers back to what it ran before. Returns what could not be restored, and
        the hosts that did not answer: what they run is unknown, so the balancer leaves them out."""
        if self.run:
            self.journal.write(deploy=self.run.id, event="rollback")
        answered = await asyncio.gather(*(self.reach(h) for h in self.plan.hosts))
        hosts = [h for h, ok in zip(self.plan.hosts, answered) if ok]
        lost = [h.label for h, ok in zip(self.plan.hosts, answered) if not ok]
        problems = [f"{label} does not answer over SSH: left out of the balancer" for label in lost]
        if self.plan.strategy == "blue-green":
            return problems + await self._rollback_colours(hosts, previous), lost
        failed: list[Host] = []

        async def known(h: Host) -> tuple[Host, dict[str, str]] | None:
            """What the host runs; one that cannot say is left out of the balancer, the others restored."""
            try:
                return h, await self.state(h)
            except (RemoteError, OSError) as exc:
                problems.append(f"{exc}: what it runs is unknown, left out of the balancer")
                failed.append(h)
                return None

        states = [said for said in await asyncio.gather(*(known(h) for h in hosts)) if said]
        changed = [h for h, s in states if s.get(MAIN) != previous.get(h.label, {}).get(MAIN)]
        up = {h.label for h, s in states if s.get(MAIN)}  # a node serves there, whatever its version
        good = {h.label for h in hosts if h not in changed and h.label in up}  # ... the one it ran before
        pointed = None
        for h in changed:
            # Node after node, each drained before its stop behind the nodes that run what they ran
            # before, else (every host changed) behind those still on the new version.
            before = previous.get(h.label, {}).get(MAIN)
            behind = [self.server(o, MAIN) for o in hosts if o != h and o.label in good] or \
                [self.server(o, MAIN) for o in hosts if o != h and o.label in up]
            try:
                if h.label in up and behind and behind != pointed:
                    await self.point(behind)
                    pointed = behind
                await self.stop(h, MAIN, drained=h.label in up and bool(behind))
                up.discard(h.label)
                if before:
                    await self.start(h, MAIN, before, switch=True)
                    up.add(h.label)
                    good.add(h.label)
            except (RemoteError, gates.GateFailed, OSError) as exc:
                problems.append(str(exc))
                failed.append(h)
        serving = [h for h in hosts if h not in failed]
        try:
            await self.point([self.server(h, MAIN) for h in serving if previous.get(h.label, {}).get(MAIN)] or
                             [self.server(h, MAIN) for h in serving])
        except (RemoteError, OSError) as exc:
            problems.append(str(exc))
        return problems, lost

    async def _rollback_colours(self, hosts: list[Host], previous: dict[str, dict[str, str]]) -> list[str]:
        """The balancer back on each host's old colour, then every host at once: the other colour
        stopped, `current` pointed back. A host that fails is named; the others are still restored."""
        colors = {h.label: live_colour(previous.get(h.label, {})) for h in hosts}
        servers = [self.server(h, c) for h in hosts if (c := colors[h.label])]
        try:
            if servers:
                await self.point(servers)
        except (RemoteError, OSError) as exc:
            return [str(exc)]

        async def restore(h: Host) -> None:
            for other in {BLUE, GREEN} - {colors[h.label]}:
                await self.stop(h, other)
            if colors[h.label]:
                await self.session(h).run(remote.switch_script(h, previous[h.label][colors[h.label]],
                                                               colors[h.label]))

        failed = await every([restore(h) for h in hosts], tolerate=(RemoteError, gates.GateFailed, OSError))
        return [str(exc) for exc in failed]


def live_colour(state: dict[str, str]) -> str | None:
    """The colour a host serves from: the one its last switch named, else the only one running, else
    the only one running what `current` points at."""
    live = state.get("live")
    if live in (BLUE, GREEN) and state.get(live):
        return live
    running = [c for c in (BLUE, GREEN) if state.get(c)]
    current = [c for c in running if state[c] == state.get("current")]
    return next((found[0] for found in (running, current) if len(found) == 1), None)


def background(work: Awaitable[object]) -> asyncio.Future:
    """`work` under way as a task; a failure is raised to whoever awaits it, and never reported as
    unretrieved when nobody does (the deploy ended first, or a gate asks again)."""
    task = asyncio.ensure_future(work)
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    return task


async def every(steps: list[Awaitable[object]],
                tolerate: tuple[type[BaseException], ...] = ()) -> list[BaseException]:
    """Run the steps together, each to its end; then the first failure not of a `tolerate` kind is
    raised, and the tolerated ones are returned."""
    results = await asyncio.gather(*steps, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if untolerated := [exc for exc in failed if not isinstance(exc, tolerate)]:
        raise untolerated[0]
    return failed
