defmodule PhxFixtureWeb.Health do
  @moduledoc """
  `/health` answers while the VM runs (liveness); `/health/ready` also asks the Repo and the PubSub
  (readiness), answering 503 with the failing parts.
  """
  import Plug.Conn
  @behaviour Plug

  @impl true
  def init(opts), do: opts

  @impl true
  def call(%Plug.Conn{path_info: ["health"]} = conn, _), do: reply(conn, 200, %{status: "ok"})

  def call(%Plug.Conn{path_info: ["health", "ready"]} = conn, _) do
    checks = %{repo: repo(), pubsub: pubsub()}
    failing = for {name, result} <- checks, result != :ok, do: name
    status = if failing == [], do: 200, else: 503
    reply(conn, status, %{status: if(failing == [], do: "ok", else: "failing"), failing: failing})
  end

  def call(conn, _), do: conn

  defp reply(conn, status, body) do
    conn
    |> put_resp_content_type("application/json")
    |> send_resp(status, Jason.encode!(body))
    |> halt()
  end

  defp repo do
    if Application.get_env(:phx_fixture, PhxFixture.Repo) do
      case Ecto.Adapters.SQL.query(PhxFixture.Repo, "SELECT 1", [], timeout: 1_000) do
        {:ok, _} -> :ok
        {:error, _} -> :error
      end
    else
      :ok
    end
  rescue
    _ -> :error
  end

  defp pubsub do
    if Process.whereis(PhxFixture.PubSub), do: :ok, else: :error
  end
end
