defmodule ObanSchema.Repo do
  use Ecto.Repo, otp_app: :oban_schema, adapter: Ecto.Adapters.Postgres
end

defmodule ObanSchema.Migration do
  use Ecto.Migration

  def up do
    Oban.Migration.up(
      version: String.to_integer(System.get_env("OBAN_VERSION", "12")),
      prefix: System.get_env("OBAN_PREFIX", "public")
    )
  end
end

defmodule ObanSchema do
  @moduledoc "Migrate DATABASE_URL to Oban's schema (OBAN_VERSION, OBAN_PREFIX), then stop."

  def migrate do
    Application.put_env(:oban_schema, ObanSchema.Repo,
      url: System.fetch_env!("DATABASE_URL"),
      pool_size: 2,
      log: false
    )

    {:ok, _} = Application.ensure_all_started(:ecto_sql)
    {:ok, _} = Application.ensure_all_started(:postgrex)
    {:ok, pid} = ObanSchema.Repo.start_link()
    Ecto.Migrator.run(ObanSchema.Repo, [{1, ObanSchema.Migration}], :up, all: true, log: false)
    Supervisor.stop(pid)
  end
end
