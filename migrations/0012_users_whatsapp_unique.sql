-- A WhatsApp number belongs to one member of a workspace: a notification's Accept tapped
-- from it claims for them.
CREATE UNIQUE INDEX users_workspace_whatsapp_key ON users (workspace_id, whatsapp_number);
