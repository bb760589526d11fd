defmodule PhxFixtureWeb.Layouts do
  use PhxFixtureWeb, :html

  def root(assigns) do
    ~H"""
    <!DOCTYPE html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="csrf-token" content={get_csrf_token()} />
        <title>PhxFixture</title>
        <link phx-track-static rel="stylesheet" href={~p"/assets/app.css"} />
        <link phx-track-static rel="stylesheet" href={~p"/assets/generation.css"} />
        <script defer phx-track-static type="text/javascript" src={~p"/assets/phoenix.min.js"}>
        </script>
        <script defer phx-track-static type="text/javascript" src={~p"/assets/phoenix_live_view.min.js"}>
        </script>
        <script defer phx-track-static type="text/javascript" src={~p"/assets/app.js"}>
        </script>
      </head>
      <body>
        <%= @inner_content %>
      </body>
    </html>
    """
  end

  def app(assigns) do
    ~H"""
    <main><%= @inner_content %></main>
    """
  end
end
