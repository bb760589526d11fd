defmodule PhxFixtureWeb.Telemetry do
  use Supervisor
  import Telemetry.Metrics

  def start_link(arg), do: Supervisor.start_link(__MODULE__, arg, name: __MODULE__)

  @impl true
  def init(_arg) do
    children = [
      {:telemetry_poller, measurements: periodic_measurements(), period: 10_000},
      {TelemetryMetricsPrometheus.Core, metrics: metrics(), name: __MODULE__.Prometheus}
    ]

    Supervisor.init(children, strategy: :one_for_one)
  end

  def metrics do
    [
      distribution("phoenix.router_dispatch.stop.duration",
        tags: [:route],
        unit: {:native, :millisecond},
        reporter_options: [buckets: [10, 100, 500, 1000]]
      ),
      counter("phoenix.endpoint.stop.count",
        event_name: [:phoenix, :endpoint, :stop],
        tags: [:method],
        tag_values: &%{method: &1.conn.method}
      ),
      distribution("phx_fixture.repo.query.total_time",
        unit: {:native, :millisecond},
        reporter_options: [buckets: [1, 10, 100, 1000]]
      ),
      counter("oban.job.stop.duration", tags: [:queue, :state]),
      counter("oban.job.exception.duration", tags: [:queue]),
      last_value("vm.memory.total", unit: {:byte, :kilobyte}),
      last_value("vm.total_run_queue_lengths.total"),
      last_value("vm.total_run_queue_lengths.cpu")
    ]
  end

  defp periodic_measurements, do: []
end
