defmodule PhxFixtureWeb.PageController do
  use PhxFixtureWeb, :controller

  def home(conn, _params) do
    conn
    |> put_session(:visits, (get_session(conn, :visits) || 0) + 1)
    |> render(:home, visits: get_session(conn, :visits) || 0)
  end
end

defmodule PhxFixtureWeb.PageHTML do
  use PhxFixtureWeb, :html

  def home(assigns) do
    ~H"""
    <h1>Phoenix fixture</h1>
    <p>Visits in this session: <span id="visits"><%= @visits %></span></p>
    <p><a href={~p"/counter"}>Counter</a></p>
    """
  end
end

defmodule PhxFixtureWeb.JobController do
  use PhxFixtureWeb, :controller

  # POST /api/jobs {"args": {...}, "queue": "default"} inserts an Oban job (needs DATABASE_URL).
  def create(conn, params) do
    job = PhxFixture.EchoWorker.new(params["args"] || %{}, queue: params["queue"] || "default")

    case Oban.insert(job) do
      {:ok, job} -> json(conn, %{id: job.id, queue: job.queue, state: job.state})
      {:error, reason} -> conn |> put_status(422) |> json(%{error: inspect(reason)})
    end
  end
end

defmodule PhxFixtureWeb.MetricsController do
  use PhxFixtureWeb, :controller

  # The Prometheus text format, as TelemetryMetricsPrometheus.Core renders it. METRICS=false leaves
  # it out (as phx.new has none); HARDEN=1 wants "authorization: Bearer $METRICS_TOKEN".
  def scrape(conn, _params) do
    cond do
      PhxFixtureWeb.Knobs.get(:metrics) == false ->
        send_resp(conn, 404, "Not Found")

      PhxFixtureWeb.Knobs.get(:harden) and not bearer?(conn, PhxFixtureWeb.Knobs.get(:metrics_token)) ->
        send_resp(conn, 401, "unauthorized")

      true ->
        conn
        |> put_resp_content_type("text/plain")
        |> send_resp(200, TelemetryMetricsPrometheus.Core.scrape(PhxFixtureWeb.Telemetry.Prometheus))
    end
  end

  defp bearer?(_conn, nil), do: false
  defp bearer?(conn, token), do: get_req_header(conn, "authorization") == ["Bearer " <> token]
end

defmodule PhxFixtureWeb.ErrorHTML do
  use PhxFixtureWeb, :html
  def render(template, _assigns), do: Phoenix.Controller.status_message_from_template(template)
end

defmodule PhxFixtureWeb.ErrorJSON do
  def render(template, _assigns),
    do: %{errors: %{detail: Phoenix.Controller.status_message_from_template(template)}}
end
