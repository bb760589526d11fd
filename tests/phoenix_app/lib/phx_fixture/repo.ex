defmodule PhxFixture.Repo do
  use Ecto.Repo,
    otp_app: :phx_fixture,
    adapter: Ecto.Adapters.Postgres
end
