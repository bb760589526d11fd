defmodule PhxFixture.Repo.Migrations.AddNoteToItems do
  use Ecto.Migration

  def change do
    alter table(:items) do
      add :note, :text
    end

    create index(:items, [:name])
  end
end
