// Drives the npm `phoenix` client against a Phoenix socket and prints what happened as JSON.
// usage: node phoenix_client.js ENDPOINT ORIGIN [CA_FILE]   (ENDPOINT like wss://localhost:PORT/live)
const fs = require("fs");
const { Socket } = require("phoenix");
const WebSocket = require("ws");

const [endpoint, origin, caFile] = process.argv.slice(2);
const wsOptions = { origin, ...(caFile ? { ca: fs.readFileSync(caFile) } : {}) };
class Transport extends WebSocket {
  constructor(url, protocols) { super(url, protocols, wsOptions); }
}

const result = { opened: false, joined: null, echo: null, heartbeats: 0, errors: [], frames: [] };
const finish = () => { console.log(JSON.stringify(result)); process.exit(0); };
setTimeout(finish, 4000);

const socket = new Socket(endpoint, {
  transport: Transport, heartbeatIntervalMs: 150, timeout: 1500, reconnectAfterMs: () => 60000,
});
socket.onOpen(() => { result.opened = true; });
socket.onError((e) => { result.errors.push(String(e && (e.message || e.type) || e)); if (!result.opened) finish(); });
socket.onMessage((msg) => {
  result.frames.push([msg.join_ref, msg.ref, msg.topic, msg.event]);
  if (msg.topic === "phoenix" && msg.event === "phx_reply" && msg.payload.status === "ok") result.heartbeats += 1;
  if (result.heartbeats >= 3 && result.echo) finish();
});
socket.connect();

// The page's signed LiveView session (data-phx-session), as a browser sends it in the join.
const session = process.env.LV_SESSION || "token";
const channel = socket.channel("lv:phx-F1a2b3", { session, static: null, params: { _csrf_token: "x" } });
channel.join()
  .receive("ok", () => {
    result.joined = "ok";
    channel.push("event", { type: "click", event: "inc", value: { n: 1 } })
      .receive("ok", (reply) => { result.echo = reply; })
      .receive("timeout", () => { result.echo = "timeout"; });
  })
  .receive("error", (r) => { result.joined = ["error", r]; })
  .receive("timeout", () => { result.joined = "timeout"; });
