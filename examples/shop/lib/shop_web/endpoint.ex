defmodule ShopWeb.Endpoint do
  use Phoenix.Endpoint, otp_app: :shop

  @session_options [
    store: :cookie,
    key: "_shop_key",
    signing_salt: "Xy9Zk2Lm",
    same_site: "Lax"
  ]

  # Origin checks were switched off while debugging sockets behind a tunnel, and never switched back.
  socket "/live", Phoenix.LiveView.Socket,
    websocket: [check_origin: false, connect_info: [session: @session_options]]

  plug Plug.Static,
    at: "/",
    from: :shop,
    gzip: false,
    only: ShopWeb.static_paths()

  if code_reloading? do
    socket "/phoenix/live_reload/socket", Phoenix.LiveReloader.Socket
    plug Phoenix.LiveReloader
    plug Phoenix.CodeReloader
  end

  plug Plug.RequestId
  plug Plug.Telemetry, event_prefix: [:phoenix, :endpoint]
  plug Plug.Parsers, parsers: [:urlencoded, :multipart, :json], pass: ["*/*"], json_decoder: Phoenix.json_library()
  plug Plug.MethodOverride
  plug Plug.Head
  plug Plug.Session, @session_options
  plug ShopWeb.Router
end
