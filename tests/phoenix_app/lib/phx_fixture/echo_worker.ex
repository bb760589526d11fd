defmodule PhxFixture.EchoWorker do
  @moduledoc "A job that succeeds, sleeps, or fails on request: enough shapes for the jobs audit."
  use Oban.Worker, queue: :default, max_attempts: 3

  @impl Oban.Worker
  def perform(%Oban.Job{args: args}) do
    if ms = args["sleep_ms"], do: Process.sleep(ms)

    case args do
      %{"fail" => true} -> {:error, "asked to fail"}
      %{"raise" => true} -> raise "asked to raise"
      _ -> :ok
    end
  end
end
