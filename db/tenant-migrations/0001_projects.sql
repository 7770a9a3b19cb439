-- Projects of a tenant. tenant_id defaults to the transaction's tenant context, so the
-- application never has to pass it; RLS (WITH CHECK) refuses any other value.
CREATE TABLE projects (
  tenant_id uuid NOT NULL DEFAULT tenancy.current_tenant_id(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name)
);
