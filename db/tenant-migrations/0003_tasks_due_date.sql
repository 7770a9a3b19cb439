ALTER TABLE tasks ADD COLUMN due_on date;
CREATE INDEX tasks_tenant_due_idx ON tasks (tenant_id, due_on) WHERE NOT done;
