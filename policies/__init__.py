"""Pure rules of the Learning Day program and the policy file model. No I/O: safe in workflows."""
