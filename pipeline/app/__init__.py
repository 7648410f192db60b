"""Jobs: the workspace (lock + work database), the chain of steps, exit codes, reports."""
