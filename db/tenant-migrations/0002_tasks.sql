-- Tasks belong to a project of the same tenant: the foreign key includes tenant_id, so a
-- task can never point at another tenant's project (foreign keys are checked without RLS).
CREATE TABLE tasks (
  tenant_id uuid NOT NULL DEFAULT tenancy.current_tenant_id(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL,
  title text NOT NULL,
  done boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX tasks_tenant_project_idx ON tasks (tenant_id, project_id);
