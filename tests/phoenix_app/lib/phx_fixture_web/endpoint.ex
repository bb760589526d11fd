defmodule PhxFixtureWeb.Endpoint do
  use Phoenix.Endpoint, otp_app: :phx_fixture
  # Runtime knobs that phx.new would fix at compile time (longpoll on/off, session variant, hardening).
  @before_compile PhxFixtureWeb.Knobs

  socket "/live", Phoenix.LiveView.Socket,
    websocket: [connect_info: [session: {PhxFixtureWeb.Knobs, :session_options, []}]],
    longpoll: [connect_info: [session: {PhxFixtureWeb.Knobs, :session_options, []}]]

  socket "/socket", PhxFixtureWeb.UserSocket, websocket: true, longpoll: false

  plug Plug.Static,
    at: "/",
    from: :phx_fixture,
    gzip: false,
    only: PhxFixtureWeb.static_paths()

  plug PhxFixtureWeb.Health
  plug PhxFixtureWeb.Knobs, :fault
  plug PhxFixtureWeb.Knobs, :force_ssl
  plug Plug.RequestId
  plug Plug.Telemetry, event_prefix: [:phoenix, :endpoint]
  plug PhxFixtureWeb.Knobs, :parsers
  plug Plug.MethodOverride
  plug Plug.Head
  plug PhxFixtureWeb.Knobs, :session
  plug PhxFixtureWeb.Router
end
