defmodule PhxFixtureWeb.CounterLive do
  use PhxFixtureWeb, :live_view

  def mount(_params, session, socket) do
    {:ok, assign(socket, count: 0, node: node(), visits: session["visits"] || 0)}
  end

  def handle_event("inc", _params, socket), do: {:noreply, update(socket, :count, &(&1 + 1))}

  def render(assigns) do
    ~H"""
    <p>Count: <span id="count"><%= @count %></span> on <%= @node %></p>
    <button phx-click="inc">+1</button>
    """
  end
end
