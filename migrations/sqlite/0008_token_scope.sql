-- Personal API tokens carry a scope (issue 22): 'read' answers only safe requests
-- (GET, HEAD, OPTIONS), 'full' acts as the person does. Sessions are always 'full';
-- tokens made before the scope existed keep the access they were made with.
-- Keep in step with the other dialect's 0008_token_scope.sql.
ALTER TABLE sessions ADD COLUMN scope TEXT NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'read'));
