defmodule PhxFixtureWeb.UserSocket do
  use Phoenix.Socket

  channel "room:*", PhxFixtureWeb.RoomChannel

  @impl true
  def connect(_params, socket, _connect_info), do: {:ok, socket}

  @impl true
  def id(_socket), do: nil
end

defmodule PhxFixtureWeb.RoomChannel do
  use Phoenix.Channel
  alias PhxFixtureWeb.Presence

  # Each join is tracked in Presence under params["user"] (or a fresh name).
  def join("room:" <> _room, params, socket) do
    send(self(), :after_join)
    {:ok, assign(socket, :user, params["user"] || "anon-#{System.unique_integer([:positive])}")}
  end

  def handle_info(:after_join, socket) do
    {:ok, _} = Presence.track(socket, socket.assigns.user, %{node: node(), online_at: System.system_time(:second)})
    push(socket, "presence_state", Presence.list(socket))
    {:noreply, socket}
  end

  def handle_in("ping", payload, socket), do: {:reply, {:ok, payload}, socket}
end

defmodule PhxFixtureWeb.Presence do
  use Phoenix.Presence, otp_app: :phx_fixture, pubsub_server: PhxFixture.PubSub
end
