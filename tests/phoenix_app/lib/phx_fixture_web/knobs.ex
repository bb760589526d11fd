defmodule PhxFixtureWeb.Knobs do
  @moduledoc """
  What `config/runtime.exs` lets tests vary in one build: where phx.new writes compile-time options
  (`@session_options`, `longpoll:`, `force_ssl`, `Plug.Parsers`), these read them at runtime.
  """
  @behaviour Plug

  def get(key), do: Keyword.get(Application.get_env(:phx_fixture, :knobs, []), key)

  def session_options do
    base = [store: :cookie, key: "_phx_fixture_key", signing_salt: "Jx2fQ8sV", same_site: "Lax"]
    base = if get(:encrypt_session), do: base ++ [encryption_salt: "v7Lr0pQz"], else: base
    if get(:harden), do: base ++ [secure: true, http_only: true], else: base
  end

  @impl true
  def init(which), do: which

  @impl true
  def call(conn, :session), do: Plug.Session.call(conn, Plug.Session.init(session_options()))

  def call(conn, :parsers) do
    opts =
      Plug.Parsers.init(
        parsers: [:urlencoded, :multipart, :json],
        pass: ["*/*"],
        json_decoder: Phoenix.json_library(),
        length: get(:max_body) || 8_000_000
      )

    Plug.Parsers.call(conn, opts)
  end

  def call(conn, :force_ssl) do
    if get(:harden) do
      Plug.SSL.call(conn, Plug.SSL.init(rewrite_on: [:x_forwarded_proto], hsts: true, exclude: []))
    else
      conn
    end
  end

  # A node that misbehaves on purpose, behind the health plug (it stays ready): every request
  # delayed, and a share of them answered 500.
  def call(conn, :fault) do
    if delay = get(:fault_delay_ms), do: Process.sleep(delay)
    share = get(:fault_5xx_share) || 0.0

    if share > 0 and :rand.uniform() <= share do
      conn |> Plug.Conn.send_resp(500, "fault injected") |> Plug.Conn.halt()
    else
      conn
    end
  end

  # Sockets are dispatched before any plug of the endpoint, so the longpoll switch wraps call/2.
  defmacro __before_compile__(_env) do
    quote do
      defoverridable call: 2

      def call(%Plug.Conn{path_info: ["live", "longpoll"]} = conn, opts) do
        if PhxFixtureWeb.Knobs.get(:longpoll) == false do
          conn |> Plug.Conn.send_resp(404, "Not Found") |> Plug.Conn.halt()
        else
          super(conn, opts)
        end
      end

      def call(conn, opts), do: super(conn, opts)
    end
  end
end
